// Mistral 3 multimodal checkpoints (Mistral3ForConditionalGeneration, model_type mistral3:
// Mistral Small 3.1 / 3.2): the Mistral text model of family_mistral.cpp, configured by
// config.json's text_config and stored under language_model.model.* (original upload) or
// model.language_model.* (re-saved by transformers >= 4.52). The Pixtral vision tower and the
// projector are not loaded; an export copies them byte for byte.
#include "model/architecture.h"

namespace heretic::model {

const ModelFamily& mistral_family();  // family_mistral.cpp

const ModelFamily& mistral3_family() {
  static const ModelFamily family = [] {
    ModelFamily f = mistral_family();
    f.name = "mistral3";
    f.model_types = {"mistral3"};
    f.text_model_types = {"mistral"};
    f.layouts = {{"language_model.model.", "language_model."}, {"model.language_model.", ""}};
    return f;
  }();
  return family;
}

}  // namespace heretic::model
