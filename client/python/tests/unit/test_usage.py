"""Usage converters: provider usage -> disjoint buckets (docs/API.md, "Usage buckets")."""
import types

import pytest

from stepledger import usage


def buckets(u):
    return {f.name: getattr(u, f.name) for f in u.DESCRIPTOR.fields if u.HasField(f.name)}


def test_openai_cached_tokens_are_inside_prompt_tokens_and_reasoning_inside_completion():
    u = usage.from_openai({"prompt_tokens": 1200, "completion_tokens": 300,
                           "prompt_tokens_details": {"cached_tokens": 1000},
                           "completion_tokens_details": {"reasoning_tokens": 200}})
    assert buckets(u) == {"input_uncached_tokens": 200, "cache_read_tokens": 1000,
                          "output_tokens": 100, "reasoning_tokens": 200}


def test_openai_without_details_leaves_cache_and_reasoning_unknown_not_zero():
    u = usage.from_openai({"prompt_tokens": 50, "completion_tokens": 7})
    assert buckets(u) == {"input_uncached_tokens": 50, "output_tokens": 7}
    assert not u.HasField("cache_read_tokens")
    assert not u.HasField("reasoning_tokens")


def test_openai_null_details_are_absent_and_zero_details_are_zero():
    u = usage.from_openai({"prompt_tokens": 10, "completion_tokens": 5,
                           "prompt_tokens_details": None,
                           "completion_tokens_details": {"reasoning_tokens": 0}})
    assert buckets(u) == {"input_uncached_tokens": 10, "output_tokens": 5,
                          "reasoning_tokens": 0}


def test_openai_sdk_objects_with_attributes_convert_like_dicts():
    sdk = types.SimpleNamespace(
        prompt_tokens=30, completion_tokens=20,
        prompt_tokens_details=types.SimpleNamespace(cached_tokens=10, audio_tokens=None),
        completion_tokens_details=types.SimpleNamespace(reasoning_tokens=5))
    assert buckets(usage.from_openai(sdk)) == {"input_uncached_tokens": 20,
                                               "cache_read_tokens": 10, "output_tokens": 15,
                                               "reasoning_tokens": 5}


def test_openai_responses_api_names():
    u = usage.from_openai({"input_tokens": 100, "output_tokens": 40,
                           "input_tokens_details": {"cached_tokens": 60},
                           "output_tokens_details": {"reasoning_tokens": 30}})
    assert buckets(u) == {"input_uncached_tokens": 40, "cache_read_tokens": 60,
                          "output_tokens": 10, "reasoning_tokens": 30}


def test_litellm_cache_creation_tokens_are_a_cache_write_inside_prompt_tokens():
    u = usage.from_openai({"prompt_tokens": 1500, "completion_tokens": 10,
                           "prompt_tokens_details": {"cached_tokens": 1000},
                           "cache_creation_input_tokens": 400})
    assert buckets(u) == {"input_uncached_tokens": 100, "cache_read_tokens": 1000,
                          "cache_write_tokens": 400, "output_tokens": 10}


def test_inclusive_count_smaller_than_its_parts_is_taken_as_the_uncached_part():
    # A gateway that passes on a provider's raw (exclusive) count: never a negative bucket.
    u = usage.from_openai({"prompt_tokens": 5, "completion_tokens": 3,
                           "prompt_tokens_details": {"cached_tokens": 100},
                           "completion_tokens_details": {"reasoning_tokens": 9}})
    assert buckets(u) == {"input_uncached_tokens": 5, "cache_read_tokens": 100,
                          "output_tokens": 3, "reasoning_tokens": 9}


def test_only_details_reported_leaves_the_totals_unknown():
    u = usage.from_openai({"prompt_tokens_details": {"cached_tokens": 8}})
    assert buckets(u) == {"cache_read_tokens": 8}


def test_none_and_empty_usage_are_all_unknown():
    assert buckets(usage.from_openai(None)) == {}
    assert buckets(usage.from_openai({})) == {}
    assert buckets(usage.from_anthropic(None)) == {}
    assert buckets(usage.from_otel_genai(None)) == {}


@pytest.mark.parametrize("bad,field", [
    ({"prompt_tokens": -1}, "prompt_tokens"),
    ({"prompt_tokens": True}, "prompt_tokens"),
    ({"prompt_tokens": 1.5}, "prompt_tokens"),
    ({"prompt_tokens": "12x"}, "prompt_tokens"),
    ({"completion_tokens": 3, "completion_tokens_details": {"reasoning_tokens": [1]}},
     "completion_tokens_details.reasoning_tokens"),
])
def test_malformed_counts_raise_naming_the_field(bad, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        usage.from_openai(bad)


def test_whole_floats_and_numeric_strings_are_accepted():
    assert buckets(usage.from_openai({"prompt_tokens": 12.0, "completion_tokens": "4"})) == {
        "input_uncached_tokens": 12, "output_tokens": 4}


def test_anthropic_input_tokens_already_exclude_the_cache():
    u = usage.from_anthropic({"input_tokens": 20, "cache_read_input_tokens": 3000,
                              "cache_creation_input_tokens": 500, "output_tokens": 80})
    assert buckets(u) == {"input_uncached_tokens": 20, "cache_read_tokens": 3000,
                          "cache_write_tokens": 500, "output_tokens": 80}


def test_anthropic_without_cache_fields_leaves_cache_unknown_and_reasoning_always_unknown():
    u = usage.from_anthropic(types.SimpleNamespace(input_tokens=9, output_tokens=4,
                                                   cache_read_input_tokens=None))
    assert buckets(u) == {"input_uncached_tokens": 9, "output_tokens": 4}


def test_otel_genai_current_names():
    u = usage.from_otel_genai({"gen_ai.usage.input_tokens": 1000,
                               "gen_ai.usage.cache_read.input_tokens": 600,
                               "gen_ai.usage.cache_creation.input_tokens": 100,
                               "gen_ai.usage.output_tokens": 250,
                               "gen_ai.usage.reasoning.output_tokens": 50,
                               "gen_ai.request.model": "gpt-4o"})
    assert buckets(u) == {"input_uncached_tokens": 300, "cache_read_tokens": 600,
                          "cache_write_tokens": 100, "output_tokens": 200,
                          "reasoning_tokens": 50}


def test_otel_genai_older_names_and_string_values():
    u = usage.from_otel_genai({"gen_ai.usage.prompt_tokens": "70",
                               "gen_ai.usage.completion_tokens": "30",
                               "gen_ai.usage.cache_read_input_tokens": 20,
                               "gen_ai.usage.reasoning_tokens": 10})
    assert buckets(u) == {"input_uncached_tokens": 50, "cache_read_tokens": 20,
                          "output_tokens": 20, "reasoning_tokens": 10}


def test_otel_genai_raw_exclusive_input_is_kept_as_uncached():
    u = usage.from_otel_genai({"gen_ai.usage.input_tokens": 10,
                               "gen_ai.usage.cache_read.input_tokens": 500})
    assert buckets(u) == {"input_uncached_tokens": 10, "cache_read_tokens": 500}


def test_otel_genai_bad_value_names_the_attribute():
    with pytest.raises(ValueError, match="gen_ai.usage.output_tokens"):
        usage.from_otel_genai({"gen_ai.usage.output_tokens": -5})
