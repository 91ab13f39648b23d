"""A from-scratch PyTorch Qwen3 decoder that computes what transformers' Qwen3ForCausalLM computes
for the config this folder writes (float32, no biases, q/k RMSNorm, default RoPE, GQA, untied
lm_head). Spec: architectures.md §1 and §3.4.

Module and parameter names equal the Hugging Face ones, so state_dict() keys are the safetensors
tensor names (model.layers.0.self_attn.q_proj.weight, ...).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_config(vocab_size, hidden_size, intermediate_size, num_layers, num_heads, num_kv_heads,
                head_dim, bos_token_id, eos_token_id, max_position_embeddings=512):
    """config.json contents for Qwen3ForCausalLM."""
    return {
        "architectures": ["Qwen3ForCausalLM"],
        "model_type": "qwen3",
        "vocab_size": vocab_size,
        "hidden_size": hidden_size,
        "intermediate_size": intermediate_size,
        "num_hidden_layers": num_layers,
        "num_attention_heads": num_heads,
        "num_key_value_heads": num_kv_heads,
        "head_dim": head_dim,
        "hidden_act": "silu",
        "max_position_embeddings": max_position_embeddings,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "use_sliding_window": False,
        "sliding_window": None,
        "max_window_layers": num_layers,
        "tie_word_embeddings": False,
        "initializer_range": 0.02,
        "use_cache": True,
        "bos_token_id": bos_token_id,
        "eos_token_id": eos_token_id,
        "torch_dtype": "float32",
        "dtype": "float32",
        "transformers_version": "4.51.0",
    }


class RMSNorm(nn.Module):
    """Llama-style RMSNorm ("Norm A"): w * (x32 * rsqrt(mean(x32^2) + eps)).to(dtype)."""

    def __init__(self, size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        x32 = x.float()
        normed = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * normed.to(x.dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class RotaryEmbedding(nn.Module):
    def __init__(self, head_dim, theta):
        super().__init__()
        # inv_freq computed as transformers does: int64 arange -> float -> / dim, base ** that.
        exponent = torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim
        self.register_buffer("inv_freq", 1.0 / (theta ** exponent), persistent=False)

    def forward(self, position_ids):
        # position_ids: [B, T] -> cos, sin: [B, T, head_dim]
        freqs = position_ids[:, :, None].float() * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, self.n_heads, self.n_kv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.head_dim = cfg["head_dim"]
        self.q_proj = nn.Linear(h, self.n_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(h, self.n_kv * self.head_dim, bias=False)
        self.v_proj = nn.Linear(h, self.n_kv * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.n_heads * self.head_dim, h, bias=False)
        self.q_norm = RMSNorm(self.head_dim, cfg["rms_norm_eps"])
        self.k_norm = RMSNorm(self.head_dim, cfg["rms_norm_eps"])
        self.scaling = self.head_dim ** -0.5

    def forward(self, x, cos, sin, additive_mask, past):
        b, t, _ = x.shape
        # q: [B, nH, T, hd], k/v: [B, nKV, T, hd]; q/k norms act per head before RoPE.
        q = self.q_norm(self.q_proj(x).view(b, t, self.n_heads, self.head_dim)).transpose(1, 2)
        k = self.k_norm(self.k_proj(x).view(b, t, self.n_kv, self.head_dim)).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        cos, sin = cos[:, None], sin[:, None]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat((past[0], k), dim=2)
            v = torch.cat((past[1], v), dim=2)
        present = (k, v)
        # GQA: query head h reads kv head h // (nH / nKV).
        groups = self.n_heads // self.n_kv
        k_rep = k.repeat_interleave(groups, dim=1)  # [B, nH, S, hd]
        v_rep = v.repeat_interleave(groups, dim=1)
        scores = torch.matmul(q, k_rep.transpose(2, 3)) * self.scaling  # [B, nH, T, S]
        scores = scores + additive_mask
        probs = F.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(probs, v_rep).transpose(1, 2).reshape(b, t, -1)  # [B, T, nH*hd]
        return self.o_proj(out), present


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, i = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(h, i, bias=False)
        self.up_proj = nn.Linear(h, i, bias=False)
        self.down_proj = nn.Linear(i, h, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.mlp = MLP(cfg)

    def forward(self, h, cos, sin, additive_mask, past, dropout=0.0):
        attn_out, present = self.self_attn(self.input_layernorm(h), cos, sin, additive_mask, past)
        # Residual-branch dropout is a training regulariser only (identity in eval mode).
        h = h + F.dropout(attn_out, dropout, self.training)
        h = h + F.dropout(self.mlp(self.post_attention_layernorm(h)), dropout, self.training)
        return h, present


class Qwen3Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.rotary_emb = RotaryEmbedding(cfg["head_dim"], cfg["rope_theta"])


class Qwen3ForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.residual_dropout = 0.0  # training only, see DecoderLayer.forward
        self.model = Qwen3Model(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        std = cfg["initializer_range"]
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, mean=0.0, std=std)

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None,
                output_hidden_states=False, logits_mask=None):
        """input_ids: [B, T]; attention_mask: [B, S] (1 = real token, S = past + T) or None for
        no padding; position_ids: [B, T] or None for past_len + arange(T); logits_mask: [B, T]
        bool or None: the positions whose logits are computed (training needs only the
        response's; the vocabulary projection dominates the cost otherwise).

        Returns (logits [B, T, V], or [N, V] for the N positions of logits_mask in row-major
        order, hidden_states or None, presents). hidden_states follows
        transformers: L+1 tensors [B, T, H]; [0] = embeddings, [i] = output of block i-1,
        [L] = final_norm(output of the last block).
        """
        b, t = input_ids.shape
        past_len = 0 if past is None else past[0][0].shape[2]
        s = past_len + t
        device = input_ids.device
        if position_ids is None:
            position_ids = torch.arange(past_len, s, device=device)[None, :].expand(b, t)
        # Additive mask [B, 1, T, S]: key slot k is visible to query slot q iff k <= q and the
        # key is a real token. finfo.min keeps fully masked (left-pad) rows finite.
        q_slots = torch.arange(past_len, s, device=device)[:, None]
        k_slots = torch.arange(s, device=device)[None, :]
        allowed = (k_slots <= q_slots)[None, None]  # [1, 1, T, S]
        if attention_mask is not None:
            allowed = allowed & attention_mask[:, None, None, :].bool()
        dtype = self.lm_head.weight.dtype
        additive_mask = torch.zeros(allowed.shape, dtype=dtype, device=device)
        additive_mask.masked_fill_(~allowed, torch.finfo(dtype).min)

        h = self.model.embed_tokens(input_ids)  # [B, T, H]
        cos, sin = self.model.rotary_emb(position_ids)
        cos, sin = cos.to(dtype), sin.to(dtype)
        hidden_states = [h] if output_hidden_states else None
        presents = []
        for i, layer in enumerate(self.model.layers):
            h, present = layer(h, cos, sin, additive_mask, None if past is None else past[i],
                               self.residual_dropout)
            presents.append(present)
            if output_hidden_states:
                hidden_states.append(h)
        h = self.model.norm(h)
        if output_hidden_states:
            hidden_states[-1] = h
        logits = self.lm_head(h if logits_mask is None else h[logits_mask])  # [B, T, V] or [N, V]
        return logits, hidden_states, presents


def left_pad(sequences, pad_id):
    """[[ids]] -> (input_ids [B, T], attention_mask [B, T], position_ids [B, T]) with left
    padding; positions count real tokens only, as generate() derives them."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
        mask[row, width - len(seq):] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids, mask, positions


@torch.no_grad()
def first_token_outputs(model, prompts_ids, pad_id):
    """Prefill only: (logits [B, V] at the last prompt position, hidden [B, L+1, H] there)."""
    ids, mask, positions = left_pad(prompts_ids, pad_id)
    logits, hidden, _ = model(ids, mask, positions, output_hidden_states=True)
    return logits[:, -1, :].float(), torch.stack([h[:, -1, :] for h in hidden], dim=1).float()


@torch.no_grad()
def greedy_generate(model, prompts_ids, pad_id, eos_ids, max_new_tokens, stop=None):
    """Greedy decoding with a KV cache, like generate(do_sample=False). Returns the new token ids
    of every row (EOS included when produced). `stop(row, new_ids)` may end a row early (the
    refusal check uses it: text only grows, so a matched marker stays matched)."""
    ids, mask, positions = left_pad(prompts_ids, pad_id)
    b = ids.shape[0]
    outputs = [[] for _ in range(b)]
    finished = [False] * b
    logits, _, past = model(ids, mask, positions)
    last_pos = positions[:, -1]
    for _ in range(max_new_tokens):
        next_ids = logits[:, -1, :].float().argmax(dim=-1)  # [B]
        for row in range(b):
            if finished[row]:
                continue
            token = int(next_ids[row])
            outputs[row].append(token)
            if token in eos_ids or (stop is not None and stop(row, outputs[row])):
                finished[row] = True
        if all(finished):
            break
        next_ids = torch.where(torch.tensor(finished), torch.full_like(next_ids, pad_id), next_ids)
        mask = torch.cat((mask, torch.ones((b, 1), dtype=mask.dtype)), dim=1)
        last_pos = last_pos + 1
        logits, _, past = model(next_ids[:, None], mask, last_pos[:, None], past=past)
    return outputs


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())
