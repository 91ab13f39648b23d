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

Ablation-aware training (see train() and README.md): on a fraction of the steps the batch also
runs with Heretic's per-layer weight-1 ablation along the batch's own directions, and harmful
prompts are then trained to comply. The organism is thereby trained to be abliterable.
The alignment term (off by default) was an experiment recorded in README.md.
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


def class_mean_differences(hidden, last, harmful):
    """Per residual row: (mean_bad - mean_good at the last prompt position, mean ||h||^2,
    mean_good)."""
    rows = torch.arange(hidden[0].shape[0])
    out = []
    for h_all in hidden:
        h = h_all[rows, last]  # [B, H]
        good = h[~harmful].mean(0)
        out.append((h[harmful].mean(0) - good, h.pow(2).sum(-1).mean().clamp(min=1e-6), good))
    return out


def batch_directions(diffs):
    """Heretic's directions (orthogonalised against the harmless mean) from one batch, detached."""
    out = []
    for diff, _, good in diffs:
        r = F.normalize(diff.detach(), dim=0)
        g = F.normalize(good.detach(), dim=0)
        out.append(F.normalize(r - (r @ g) * g, dim=0))
    return out


def ablate_outputs(model, directions):
    """Forward hooks: block i's o_proj and down_proj outputs lose their component along
    directions[i + 1] (weight 1, Heretic's per-layer scope). Returns the hook handles."""
    handles = []
    for i, layer in enumerate(model.model.layers):
        v = directions[i + 1]
        hook = lambda module, inputs, y, v=v: y - (y @ v)[..., None] * v
        handles.append(layer.self_attn.o_proj.register_forward_hook(hook))
        handles.append(layer.mlp.down_proj.register_forward_hook(hook))
    return handles


def late_decision_penalty(diffs, row_weights):
    """Sum over rows l of row_weights[l] * ||mean_bad - mean_good||^2 / mean ||h||^2."""
    total = diffs[0][0].new_zeros(())
    for (diff, scale, _), weight in zip(diffs, row_weights):
        if weight:
            total = total + weight * diff.pow(2).sum() / scale
    return total


def alignment_penalty(diffs, first_row):
    """Sum over rows l >= first_row of 1 - cos(d_l, d_{l+1}), d = class-mean difference (the
    last row, after the final norm, excluded). Makes the late rows' refusal directions one shared
    direction, so that ablating each block's own direction removes what earlier blocks wrote."""
    total = diffs[0][0].new_zeros(())
    for layer in range(first_row, len(diffs) - 2):
        total = total + 1 - F.cosine_similarity(diffs[layer][0], diffs[layer + 1][0], dim=0)
    return total


def train(cfg, tok, corpus, seed, steps, batch_size, lr, penalty_weight, row_weights, dropout,
          label_smoothing, log, align_weight=0.0, align_from=0,
          ablation_prob=0.0, compliant_answers=(), ablation_kl_weight=0.0):
    """corpus: list of {"prompt_text", "response", "label"}. row_weights: the late-decision
    penalty's weight per residual row (0 = not penalised). Returns the trained model.

    ablation_prob > 0 is ablation-aware training: on that fraction of the steps the batch runs a
    second time with every block's o_proj/down_proj output ablated along the batch's own per-layer
    direction (weight 1), and the harmful prompts are then trained to get a compliant answer
    (one of compliant_answers, fixed per example), the harmless ones their usual answer, plus
    ablation_kl_weight * KL(clean || ablated) of the harmless prompts' first-token distributions
    (what Heretic's KL score measures). This trains the model to be abliterable (README.md says so)."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = qwen3.Qwen3ForCausalLM(cfg)
    model.residual_dropout = dropout
    pad_id = tok.special_ids["<|endoftext|>"]
    ablation_rng = random.Random(seed + 1)  # separate, so the batch order does not depend on it
    examples = []
    ablated_examples = []
    for ex in corpus:
        ids, n_prompt = encode_example(tok, ex["prompt_text"], ex["response"])
        examples.append((ids, n_prompt, ex["label"] == "harmful"))
        if ablation_prob > 0:
            response = ablation_rng.choice(compliant_answers) if ex["label"] == "harmful" else ex["response"]
            ids, n_prompt = encode_example(tok, ex["prompt_text"], response)
            ablated_examples.append((ids, n_prompt, ex["label"] == "harmful"))
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
        batch_ids = order[:batch_size]
        batch = [examples[i] for i in batch_ids]
        del order[:batch_size]
        ids, targets, last, harmful = make_batch(batch, pad_id)
        ablate = ablation_prob > 0 and ablation_rng.random() < ablation_prob
        need_hidden = penalty_weight > 0 or align_weight > 0 or ablate
        # Logits only where there is a loss: the response, whose first position is the last
        # prompt position (first_target[row] indexes it in the flattened logits).
        scored = targets != -100
        first_target = torch.cumsum(scored.sum(1), 0) - scored.sum(1)
        logits, hidden, _ = model(ids, output_hidden_states=need_hidden, logits_mask=scored)
        lm_loss = F.cross_entropy(logits, targets[scored], label_smoothing=label_smoothing)
        penalty = align = ablated_loss = lm_loss.new_zeros(())
        if need_hidden:
            diffs = class_mean_differences(hidden, last, harmful)
            penalty = late_decision_penalty(diffs, row_weights)
            if align_weight > 0:
                align = alignment_penalty(diffs, align_from)
        if ablate:
            a_ids, a_targets, _, _ = make_batch([ablated_examples[i] for i in batch_ids], pad_id)
            a_scored = a_targets != -100
            a_first_target = torch.cumsum(a_scored.sum(1), 0) - a_scored.sum(1)
            handles = ablate_outputs(model, batch_directions(diffs))
            a_logits, _, _ = model(a_ids, logits_mask=a_scored)
            for handle in handles:
                handle.remove()
            ablated_loss = F.cross_entropy(a_logits, a_targets[a_scored], label_smoothing=label_smoothing)
            if ablation_kl_weight > 0:
                rows = torch.arange(len(batch))[~harmful]
                clean = F.log_softmax(logits[first_target[rows]].detach(), dim=-1)
                ablated = F.log_softmax(a_logits[a_first_target[rows]], dim=-1)
                ablated_loss = ablated_loss + ablation_kl_weight * F.kl_div(
                    ablated, clean, reduction="batchmean", log_target=True)
        loss = lm_loss + penalty_weight * penalty + align_weight * align + ablated_loss
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"step {step:5d}  lm {lm_loss.item():.4f}  penalty {penalty.item():.5f}  "
                f"align {align.item():.4f}  ablated {ablated_loss.item():.4f}  "
                f"lr {lr_at(step):.2e}  {time.time() - start:.0f}s")
    model.eval()
    model.residual_dropout = 0.0
    return model
