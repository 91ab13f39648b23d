# Chat templates: a sandboxed Jinja2 interpreter (heretic_jinja) and the transformers-style
# apply_chat_template on top of it (heretic_chat_template). Neither needs torch.
heretic_component(heretic_jinja
  SOURCES jinja_access.cpp jinja_error.cpp jinja_expression_parser.cpp jinja_filters.cpp jinja_json.cpp jinja_lexer.cpp
          jinja_operators.cpp jinja_parser.cpp jinja_string.cpp jinja_template.cpp
          jinja_value.cpp
  DEPS heretic_common nlohmann_json::nlohmann_json)
heretic_core_add(heretic_jinja)

heretic_component(heretic_chat_template SOURCES chat_template.cpp DEPS heretic_jinja)
heretic_core_add(heretic_chat_template)
