# Model files without torch: safetensors format/reader/writer, config.json and
# generation_config.json parsing, model location (local folder or offline hub cache).
heretic_component(heretic_hf_model
  SOURCES
    safetensors_format.cpp
    safetensors_reader.cpp
    safetensors_writer.cpp
    quantized_formats.cpp
    quantization_config.cpp
    model_config.cpp
    model_config_generation.cpp
    model_location.cpp
  DEPS heretic_common heretic_hub nlohmann_json::nlohmann_json)
heretic_core_add(heretic_hf_model)
