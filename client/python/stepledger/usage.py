"""Provider usage objects -> stepledger's disjoint Usage buckets.

stepledger counts every token in exactly one bucket (input_uncached, cache_read, cache_write,
output, reasoning); providers nest them (OpenAI's prompt_tokens include cached tokens, its
completion_tokens include reasoning). docs/API.md ("Usage buckets") states the rule; these
functions are its Python home. A bucket whose count the provider did not report is left
absent (unknown), never set to 0.

Inputs may be dicts (JSON bodies, LiteLLM payloads) or objects with attributes (the OpenAI and
Anthropic SDKs' pydantic models, LiteLLM's Usage). A count that is negative, a bool or not a
whole number raises ValueError naming the field.

Inclusive counts smaller than their parts (a prompt_tokens below the cached tokens, as some
gateways pass a provider's raw count on) cannot include them: the inclusive count is taken as
the uncached part as is, never a negative number, exactly as the collector reads OTLP usage
(docs/OTLP.md, "Usage").
"""
from .v1 import steps_pb2

def _get(obj, name):
    """obj[name] or obj.name; None and absent are both 'not reported'."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(obj, path):
    """The token count at dotted `path`, or None when absent/None. Validates the value."""
    value = obj
    for part in path.split("."):
        value = _get(value, part)
        if value is None:
            return None
    return _validate(value, path)


def _validate(value, path):
    """A reported token count as an int; ValueError naming `path` when it is not one."""
    if isinstance(value, bool):
        raise ValueError(f"{path}: expected a token count, got a bool")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{path}: expected a whole token count, got {value!r}")
        value = int(value)
    if isinstance(value, str):
        # OTLP/JSON and some gateways write int64 counts as strings.
        try:
            value = int(value, 10)
        except ValueError:
            raise ValueError(f"{path}: expected a token count, got {value!r}") from None
    if not isinstance(value, int):
        raise ValueError(f"{path}: expected a token count, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{path}: negative token count {value}")
    return value


def _first(obj, *paths):
    for path in paths:
        value = _count(obj, path)
        if value is not None:
            return value
    return None


def _split(total, parts):
    """total minus the known parts, or total as is when it cannot include them."""
    if total is None:
        return None
    known = sum(p for p in parts if p is not None)
    return total - known if total >= known else total


def _usage(input_uncached=None, cache_read=None, cache_write=None, output=None,
           reasoning=None):
    usage = steps_pb2.Usage()
    for field, value in (("input_uncached_tokens", input_uncached),
                         ("cache_read_tokens", cache_read), ("cache_write_tokens", cache_write),
                         ("output_tokens", output), ("reasoning_tokens", reasoning)):
        if value is not None:
            setattr(usage, field, value)
    return usage


def from_openai(usage):
    """OpenAI usage (Chat Completions or Responses API; also LiteLLM's Usage) -> Usage.

    Chat Completions: prompt_tokens (includes prompt_tokens_details.cached_tokens),
    completion_tokens (includes completion_tokens_details.reasoning_tokens).
    Responses API: input_tokens / input_tokens_details.cached_tokens, output_tokens /
    output_tokens_details.reasoning_tokens, with the same nesting.
    LiteLLM adds cache_creation_input_tokens (Anthropic models behind an OpenAI-shaped
    response); it is a cache write and, like the cache read, inside prompt_tokens.

    Without prompt_tokens_details the cache read is unknown (absent) and all of prompt_tokens
    is taken as uncached input; without completion_tokens_details reasoning is unknown and all
    of completion_tokens is output.
    """
    if usage is None:
        return steps_pb2.Usage()
    prompt = _first(usage, "prompt_tokens", "input_tokens")
    cached = _first(usage, "prompt_tokens_details.cached_tokens",
                    "input_tokens_details.cached_tokens")
    cache_write = _count(usage, "cache_creation_input_tokens")
    completion = _first(usage, "completion_tokens", "output_tokens")
    reasoning = _first(usage, "completion_tokens_details.reasoning_tokens",
                       "output_tokens_details.reasoning_tokens")
    return _usage(input_uncached=_split(prompt, (cached, cache_write)), cache_read=cached,
                  cache_write=cache_write, output=_split(completion, (reasoning,)),
                  reasoning=reasoning)


def from_anthropic(usage):
    """Anthropic Messages usage -> Usage.

    input_tokens already excludes cache_read_input_tokens and cache_creation_input_tokens, so
    each maps to its bucket as is. Anthropic reports thinking inside output_tokens without a
    separate count, so reasoning stays absent (unknown) and output_tokens is all output.
    """
    if usage is None:
        return steps_pb2.Usage()
    return _usage(input_uncached=_count(usage, "input_tokens"),
                  cache_read=_count(usage, "cache_read_input_tokens"),
                  cache_write=_count(usage, "cache_creation_input_tokens"),
                  output=_count(usage, "output_tokens"))


def from_otel_genai(attributes):
    """OpenTelemetry GenAI span attributes (a flat dict of dotted keys) -> Usage.

    Current and older attribute names, as the collector's OTLP ingest reads them
    (docs/OTLP.md): input/output counts include cache and reasoning tokens.
    """
    if attributes is None:
        return steps_pb2.Usage()
    flat = dict(attributes)

    def attr(*names):
        for name in names:
            if flat.get(name) is not None:
                return _validate(flat[name], name)
        return None

    total_in = attr("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
    cache_read = attr("gen_ai.usage.cache_read.input_tokens",
                      "gen_ai.usage.cache_read_input_tokens")
    cache_write = attr("gen_ai.usage.cache_creation.input_tokens",
                       "gen_ai.usage.cache_creation_input_tokens")
    total_out = attr("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
    reasoning = attr("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens")
    return _usage(input_uncached=_split(total_in, (cache_read, cache_write)),
                  cache_read=cache_read, cache_write=cache_write,
                  output=_split(total_out, (reasoning,)), reasoning=reasoning)
