"""A tiny checkpoint that runs its own modeling code, laid out like THUDM/glm-4-9b-chat: config.json says
`model_type: chatglm` with an `auto_map` to files in the checkpoint, and each attention layer has one fused
`query_key_value` projection (and `dense` for the output), so no `q_proj`/`v_proj` exists.

It tests the `--trust-remote-code` path (the refusal without the flag, training on the layout's own LoRA target,
serving the adapter) on a CPU in seconds. The modeling file is a test double written against transformers 5's
Llama classes, not glm-4-9b-chat's own code: it shows that this project passes the flag, picks the targets and
serves the result, not that the 2024 glm-4-9b-chat code runs under transformers 5 (docs/gpu.md)."""

from __future__ import annotations

import json
from pathlib import Path

from tiny_models import TINY_HIDDEN, tiny_tokenizer

CONFIGURATION = """
from transformers import LlamaConfig


class ChatGLMConfig(LlamaConfig):
    model_type = "chatglm"
"""

MODELING = '''
from torch import nn
from transformers import LlamaForCausalLM
from transformers.models.llama import modeling_llama as llama

from .configuration_chatglm import ChatGLMConfig


class FusedAttention(llama.LlamaAttention):
    """Llama attention with q, k and v computed by one fused projection, as glm-4-9b-chat names it."""

    def __init__(self, config, layer_idx):
        super().__init__(config, layer_idx)
        del self.q_proj, self.k_proj, self.v_proj, self.o_proj
        self.q_size = config.num_attention_heads * self.head_dim
        self.kv_size = config.num_key_value_heads * self.head_dim
        self.query_key_value = nn.Linear(config.hidden_size, self.q_size + 2 * self.kv_size, bias=True)
        self.dense = nn.Linear(self.q_size, config.hidden_size, bias=False)

    def forward(self, hidden_states, position_embeddings=None, attention_mask=None, cache=None, **kwargs):
        cache = cache if cache is not None else kwargs.pop("past_key_values", None)
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        q, k, v = self.query_key_value(hidden_states).split([self.q_size, self.kv_size, self.kv_size], dim=-1)
        q, k, v = (t.view(hidden_shape).transpose(1, 2) for t in (q, k, v))
        cos, sin = position_embeddings
        q, k = llama.apply_rotary_pos_emb(q, k, cos, sin)
        if cache is not None:
            k, v = cache.update(k, v, self.layer_idx, kwargs=kwargs)
        attention = llama.ALL_ATTENTION_FUNCTIONS.get_interface(
            self.config._attn_implementation, llama.eager_attention_forward
        )
        output, weights = attention(
            self, q, k, v, attention_mask, dropout=0.0 if not self.training else self.attention_dropout,
            scaling=self.scaling, **kwargs
        )
        return self.dense(output.reshape(*input_shape, -1).contiguous()), weights


class ChatGLMForConditionalGeneration(LlamaForCausalLM):
    config_class = ChatGLMConfig

    def __init__(self, config):
        super().__init__(config)
        for index, layer in enumerate(self.model.layers):
            layer.self_attn = FusedAttention(config, index)
        self.post_init()
'''

AUTO_MAP = {
    "AutoConfig": "configuration_chatglm.ChatGLMConfig",
    "AutoModelForCausalLM": "modeling_chatglm.ChatGLMForConditionalGeneration",
}


def save_remote_code_tiny(directory: str | Path, seed: int = 0) -> Path:
    """Write the checkpoint (config.json, the two code files, random weights, the tiny GLM-4 tokenizer)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = tiny_tokenizer("glm4")
    (directory / "configuration_chatglm.py").write_text(CONFIGURATION, encoding="utf-8")
    (directory / "modeling_chatglm.py").write_text(MODELING, encoding="utf-8")
    config = {
        "model_type": "chatglm",
        "auto_map": AUTO_MAP,
        "vocab_size": len(tokenizer),
        "hidden_size": TINY_HIDDEN,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 4096,
        "tie_word_embeddings": False,
        "pad_token_id": tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    }
    (directory / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(
        AutoConfig.from_pretrained(directory, trust_remote_code=True), trust_remote_code=True
    )
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
