"""Trains the organism: next-token loss on the assistant turn plus a "late decision" penalty.

Each example is the rendered ChatML prompt (system + user + generation prompt, exactly what
Heretic feeds the model) followed by the response and <|im_end|>. The loss covers the response
tokens and the closing <|im_end|> only.

Late-decision penalty. Heretic's search space ablates mostly the second half of the stack
(max_weight_position >= 0.6 (L-1)), and DESIGN.md §6 records that a plain small model decides
"refuse or not" in its first blocks, where that search barely reaches. So the trainer penalises
the squared distance between the harmful and the harmless batch means of the residual stream at
the last prompt position (the position Heretic reads, spec §1.8) for the first rows
(0..penalised_rows-1; row 0 = embeddings, row i = output of block i-1), relative to the mean
squared norm of those residuals. The early blocks may still compute anything, but the linear
"this is harmful" signal at that position has to be written by the later blocks, whose o_proj
and down_proj outputs Heretic ablates.
"""

import math
import random
import time

import torch
import torch.nn.functional as F

import qwen3


def encode_example(tok, prompt_text, response):
    """-> (input ids, number of prompt ids). The prompt and the response are encoded separately,
    as in generation, and the result must equal encoding the whole text at once."""
    prompt_ids = tok.encode(prompt_text)
    response_ids = tok.encode(response) + [tok.special_ids["<|im_end|>"]]
    whole = tok.encode(prompt_text + response + "<|im_end|>")
    if whole != prompt_ids + response_ids:
        raise ValueError(f"prompt/response token boundary is not stable for {prompt_text!r}")
    return prompt_ids + response_ids, len(prompt_ids)


def make_batch(examples, pad_id):
    """Right-padded batch: ids [B, T], targets [B, T] (-100 = no loss), last prompt index [B],
    harmful flag [B]."""
    width = max(len(ids) for ids, _, _ in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    targets = torch.full((len(examples), width), -100, dtype=torch.long)
    last = torch.zeros(len(examples), dtype=torch.long)
    harmful = torch.zeros(len(examples), dtype=torch.bool)
    for row, (seq, n_prompt, is_harmful) in enumerate(examples):
        seq_t = torch.tensor(seq, dtype=torch.long)
        ids[row, :len(seq)] = seq_t
        # The logit at position j predicts token j+1: learn every response token.
        targets[row, n_prompt - 1:len(seq) - 1] = seq_t[n_prompt:]
        last[row] = n_prompt - 1
        harmful[row] = is_harmful
    return ids, targets, last, harmful


def late_decision_penalty(hidden, last, harmful, penalised_rows):
    """Sum over rows l < penalised_rows of ||mean_bad - mean_good||^2 / mean ||h||^2 at the last
    prompt position."""
    rows = torch.arange(hidden[0].shape[0])
    total = hidden[0].new_zeros(())
    for layer in range(penalised_rows):
        h = hidden[layer][rows, last]  # [B, H]
        diff = h[harmful].mean(0) - h[~harmful].mean(0)
        total = total + diff.pow(2).sum() / h.pow(2).sum(-1).mean().clamp(min=1e-6)
    return total


def train(cfg, tok, corpus, seed, steps, batch_size, lr, penalty_weight, penalised_rows, dropout,
          label_smoothing, log):
    """corpus: list of {"prompt_text", "response", "label"}. Returns the trained model."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = qwen3.Qwen3ForCausalLM(cfg)
    model.residual_dropout = dropout
    pad_id = tok.special_ids["<|endoftext|>"]
    examples = []
    for ex in corpus:
        ids, n_prompt = encode_example(tok, ex["prompt_text"], ex["response"])
        examples.append((ids, n_prompt, ex["label"] == "harmful"))
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() == 2 else no_decay).append(p)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=lr, betas=(0.9, 0.98), eps=1e-8)
    warmup = max(1, steps // 20)

    def lr_at(step):  # linear warmup, cosine decay to 10 %
        if step < warmup:
            return lr * (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    order = []
    start = time.time()
    model.train()
    for step in range(steps):
        if len(order) < batch_size:
            fresh = list(range(len(examples)))
            rng.shuffle(fresh)
            order.extend(fresh)
        batch = [examples[i] for i in order[:batch_size]]
        del order[:batch_size]
        ids, targets, last, harmful = make_batch(batch, pad_id)
        logits, hidden, _ = model(ids, output_hidden_states=penalty_weight > 0)
        lm_loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                  ignore_index=-100, label_smoothing=label_smoothing)
        penalty = (late_decision_penalty(hidden, last, harmful, penalised_rows)
                   if penalty_weight > 0 else lm_loss.new_zeros(()))
        loss = lm_loss + penalty_weight * penalty
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"step {step:5d}  lm {lm_loss.item():.4f}  penalty {penalty.item():.5f}  "
                f"lr {lr_at(step):.2e}  {time.time() - start:.0f}s")
    model.eval()
    model.residual_dropout = 0.0
    return model
