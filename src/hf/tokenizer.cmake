# Hugging Face tokenizer (tokenizer.json) without Python: BPE, normalizers, pre-tokenizers,
# post-processors and decoders. No torch.
heretic_component(heretic_tokenizer
  SOURCES
    tokenizer.cpp
    tokenizer_config.cpp
    tok_added_vocabulary.cpp
    tok_bpe.cpp
    tok_decoder.cpp
    tok_json.cpp
    tok_normalizer.cpp
    tok_pattern.cpp
    tok_post_processor.cpp
    tok_pretokenizer.cpp
    tok_regex.cpp
    tok_unicode.cpp
  DEPS heretic_common nlohmann_json::nlohmann_json spdlog::spdlog PkgConfig::PCRE2 PkgConfig::UTF8PROC)
heretic_core_add(heretic_tokenizer)
