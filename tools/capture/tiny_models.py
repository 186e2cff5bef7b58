"""Tiny randomly initialised MoE models of each supported architecture, built from a config offline (no
weights, no network), for testing the capture. Sizes are chosen so that no dimension coincides with
the expert count or k (the capture tells tensors apart by shape).
"""

import inspect

# arch -> (model class, config class, config fields). Layer counts leave at least two MoE layers;
# DeepSeek keeps its first layer dense, as the real models do (first_k_dense_replace).
# Special token ids inside the tiny vocabulary: the real configs' (e.g. Qwen's 151643) would index past it
# in generate()'s logits processors.
_COMMON = dict(vocab_size=96, hidden_size=40, intermediate_size=48, num_attention_heads=4, num_key_value_heads=2,
               max_position_embeddings=256, pad_token_id=0, bos_token_id=0, eos_token_id=1)
ARCHS = {
    "olmoe": ("OlmoeForCausalLM", "OlmoeConfig",
              dict(_COMMON, num_hidden_layers=2, num_experts=12, num_experts_per_tok=3, norm_topk_prob=False)),
    "qwen2_moe": ("Qwen2MoeForCausalLM", "Qwen2MoeConfig",
                  dict(_COMMON, num_hidden_layers=3, num_experts=12, num_experts_per_tok=3, moe_intermediate_size=24,
                       shared_expert_intermediate_size=48, decoder_sparse_step=1, mlp_only_layers=[],
                       norm_topk_prob=False)),
    "qwen3_moe": ("Qwen3MoeForCausalLM", "Qwen3MoeConfig",
                  dict(_COMMON, num_hidden_layers=2, num_experts=12, num_experts_per_tok=3, moe_intermediate_size=24,
                       head_dim=10, decoder_sparse_step=1, mlp_only_layers=[], norm_topk_prob=True)),
    "mixtral": ("MixtralForCausalLM", "MixtralConfig",
                dict(_COMMON, num_hidden_layers=2, num_local_experts=6, num_experts_per_tok=2, head_dim=10)),
    "deepseek_v2": ("DeepseekV2ForCausalLM", "DeepseekV2Config",
                    dict(_COMMON, num_hidden_layers=3, n_routed_experts=12, num_experts_per_tok=3, n_shared_experts=1,
                         moe_intermediate_size=24, first_k_dense_replace=1, kv_lora_rank=16, q_lora_rank=None,
                         qk_rope_head_dim=8, qk_nope_head_dim=8, v_head_dim=8, n_group=1, topk_group=1,
                         topk_method="greedy", routed_scaling_factor=1.0, num_key_value_heads=4)),
    "deepseek_v3": ("DeepseekV3ForCausalLM", "DeepseekV3Config",
                    dict(_COMMON, num_hidden_layers=3, n_routed_experts=16, num_experts_per_tok=4, n_shared_experts=1,
                         moe_intermediate_size=24, first_k_dense_replace=1, kv_lora_rank=16, q_lora_rank=24,
                         qk_rope_head_dim=8, qk_nope_head_dim=8, v_head_dim=8, n_group=4, topk_group=2,
                         norm_topk_prob=True, routed_scaling_factor=2.5, num_key_value_heads=4)),
}


def missing(arch):
    """Why `arch` cannot be built with the installed transformers, or None."""
    import transformers

    model_cls, config_cls, _ = ARCHS[arch]
    for name in (model_cls, config_cls):
        if not hasattr(transformers, name):
            return f"transformers {transformers.__version__} has no {name}"
    return None


def config(arch, **overrides):
    import transformers

    _, config_cls, fields = ARCHS[arch]
    cls = getattr(transformers, config_cls)
    fields = dict(fields, **overrides)
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        fields = {k: v for k, v in fields.items() if k in params}  # a strict config: known fields only
    return cls(**fields)


def build(arch, seed=0, **overrides):
    """The tiny model in eval mode, float32 on the CPU, or None when transformers lacks the class."""
    if missing(arch):
        return None
    import torch
    import transformers

    torch.manual_seed(seed)
    model = getattr(transformers, ARCHS[arch][0])(config(arch, **overrides))
    return model.float().eval()


def moe_layers(arch):
    """Decoder layers that are MoE layers in the tiny config."""
    fields = ARCHS[arch][2]
    return list(range(fields.get("first_k_dense_replace", 0), fields["num_hidden_layers"]))
