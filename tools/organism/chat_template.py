"""The organism's ChatML chat template and a renderer that matches transformers.

Rendering uses Jinja2 in the environment transformers' apply_chat_template builds
(spec: tokenizers-and-chat-templates.md §6.1): ImmutableSandboxedEnvironment with trim_blocks and
lstrip_blocks, the loopcontrols extension, json.dumps as tojson and a raise_exception global.
"""

import json

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."

# ChatML. A conversation that does not start with a system message gets the default one, as in
# Qwen2.5's template.
CHAT_TEMPLATE = (
    "{%- for message in messages %}\n"
    "    {%- if loop.first and message['role'] != 'system' %}\n"
    "        {{- '<|im_start|>system\\n" + DEFAULT_SYSTEM_PROMPT + "<|im_end|>\\n' }}\n"
    "    {%- endif %}\n"
    "    {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n"
)

SPECIAL_TOKENS_MAP = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}


def _raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def _environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    return env


_TEMPLATE = _environment().from_string(CHAT_TEMPLATE)


def render(messages, add_generation_prompt):
    return _TEMPLATE.render(messages=messages, tools=None, documents=None,
                            add_generation_prompt=add_generation_prompt, **SPECIAL_TOKENS_MAP)


def render_prompt(user_text, system_prompt=DEFAULT_SYSTEM_PROMPT):
    """What Heretic feeds the model: [system, user] with the generation prompt."""
    return render([{"role": "system", "content": system_prompt},
                   {"role": "user", "content": user_text}], add_generation_prompt=True)
