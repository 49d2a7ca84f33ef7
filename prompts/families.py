"""The one table of model families: template, special tokens, stop tokens, LoRA targets, default hub id.

A new family is one `Family` entry plus (if its markup differs) one template in `prompts/`."""

from __future__ import annotations

from dataclasses import dataclass

from agent.core.errors import UserError

# How search arguments and hotel records are written into the prompt (recorded with every adapter, since a
# model trained on one layout should be served the same one):
#   "indent4" – json.dumps(indent=4), as the course's Llama-3 / Qwen2 reference preprocessing did;
#   "spaced"  – json.dumps() defaults (", " and ": "), byte for byte the course's *.glm4.jsonl content;
#   "compact" – separators=(",", ":"), fewest tokens.
RECORD_STYLES = ("indent4", "spaced", "compact")

# Llama-3 reserves 250 special tokens; every one of them is a control token in the real tokenizer.
_LLAMA3_RESERVED = tuple(f"<|reserved_special_token_{i}|>" for i in range(248))


@dataclass(frozen=True)
class Family:
    name: str
    template: str  # file name in prompts/
    special_tokens: tuple[str, ...]  # every string the real tokenizer turns into a control token
    stop_tokens: tuple[str, ...]  # generation stops at the first of these
    generation_prompt: str  # what the template appends when the model is to speak next
    pad_token: str
    lora_target_modules: tuple[str, ...]  # the reference trained LoRA on the query and value projections
    default_model: str  # hub id (or, for smollm2, the fetched GGUF's model name)
    record_style: str  # default serialization of arguments/records, one of RECORD_STYLES
    description: str


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            name="glm4",
            template="glm4.jinja",
            special_tokens=(
                "[MASK]",
                "[gMASK]",
                "[sMASK]",
                "<sop>",
                "<eop>",
                "<|system|>",
                "<|user|>",
                "<|assistant|>",
                "<|observation|>",
                "<|endoftext|>",
                "<|begin_of_image|>",
                "<|end_of_image|>",
                "<|begin_of_video|>",
                "<|end_of_video|>",
            ),
            # GLM-4 ends a turn by starting the next one: <|observation|> after a call, <|user|> after a reply.
            stop_tokens=("<|user|>", "<|observation|>", "<|endoftext|>"),
            generation_prompt="<|assistant|>",
            pad_token="<|endoftext|>",
            lora_target_modules=("q_proj", "v_proj"),
            default_model="THUDM/glm-4-9b-chat-hf",
            record_style="spaced",
            description="GLM-4-9B-Chat ([gMASK]<sop>, <|system|> with the tool, <|observation|>)",
        ),
        Family(
            name="llama3",
            template="llama3.jinja",
            special_tokens=(
                "<|begin_of_text|>",
                "<|end_of_text|>",
                "<|start_header_id|>",
                "<|end_header_id|>",
                "<|eot_id|>",
                "<|eom_id|>",
                "<|python_tag|>",
                "<|finetune_right_pad_id|>",
                "<|step_id|>",
            )
            + _LLAMA3_RESERVED,
            stop_tokens=("<|eot_id|>", "<|end_of_text|>", "<|eom_id|>"),
            generation_prompt="<|start_header_id|>",
            pad_token="<|finetune_right_pad_id|>",
            lora_target_modules=("q_proj", "v_proj"),
            default_model="meta-llama/Llama-3.1-8B-Instruct",
            record_style="indent4",
            description="Llama-3.1-8B-Instruct (header roles user / assistant / search / return)",
        ),
        Family(
            name="qwen2",
            template="qwen2.jinja",
            special_tokens=("<|endoftext|>", "<|im_start|>", "<|im_end|>"),
            stop_tokens=("<|im_end|>", "<|endoftext|>"),
            generation_prompt="<|im_start|>",
            pad_token="<|endoftext|>",
            lora_target_modules=("q_proj", "v_proj"),
            default_model="Qwen/Qwen2-7B-Instruct",
            record_style="indent4",
            description="Qwen2-7B-Instruct and any ChatML model (roles user / assistant / search / return)",
        ),
        Family(
            name="smollm2",
            template="qwen2.jinja",
            special_tokens=(
                "<|endoftext|>",
                "<|im_start|>",
                "<|im_end|>",
                "<repo_name>",
                "<reponame>",
                "<file_sep>",
                "<filename>",
                "<gh_stars>",
                "<issue_start>",
                "<issue_comment>",
                "<issue_closed>",
                "<jupyter_start>",
                "<jupyter_text>",
                "<jupyter_code>",
                "<jupyter_output>",
                "<jupyter_script>",
                "<empty_output>",
            ),
            stop_tokens=("<|im_end|>", "<|endoftext|>"),
            generation_prompt="<|im_start|>",
            pad_token="<|endoftext|>",
            lora_target_modules=("q_proj", "v_proj"),
            default_model="smollm2",
            record_style="indent4",
            description="SmolLM2-135M-Instruct, offline from `hotel-agent models fetch smollm2` (ChatML)",
        ),
    )
}

# Turn roles the model produces; their text (and the stop token right after) is what training learns.
MODEL_ROLES = ("search", "book", "cancel", "assistant")


def get_family(name: str | Family) -> Family:
    if isinstance(name, Family):
        return name
    family = FAMILIES.get(name)
    if family is None:
        raise UserError(f"unknown model family {name!r}; choose one of: {', '.join(FAMILIES)}")
    return family
