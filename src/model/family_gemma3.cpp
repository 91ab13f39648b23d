// Gemma 3 multimodal checkpoints (Gemma3ForConditionalGeneration, model_type gemma3: 4B, 12B,
// 27B): the text model of family_gemma3_text.cpp, configured by config.json's text_config and
// stored under language_model.model.* (original upload) or model.language_model.* (re-saved by
// transformers >= 4.52). The vision tower and projector are not loaded; an export copies them
// byte for byte.
#include "model/architecture.h"

namespace heretic::model {

const ModelFamily& gemma3_text_family();  // family_gemma3_text.cpp

const ModelFamily& gemma3_family() {
  static const ModelFamily family = [] {
    ModelFamily f = gemma3_text_family();
    f.name = "gemma3";
    f.model_types = {"gemma3"};
    f.text_model_types = {"gemma3_text"};
    f.layouts = {{"language_model.model.", "language_model."}, {"model.language_model.", ""}};
    return f;
  }();
  return family;
}

}  // namespace heretic::model
