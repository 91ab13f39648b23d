#include "common/error.h"
#include "config/load.h"
#include "config/print.h"
#include "fuzz_input.h"
#include "fuzz_targets.h"

namespace heretic::fuzz {

int fuzz_toml_config(const uint8_t* data, size_t size) {
  // The configuration file, then (after a NUL) --set overrides, one per line.
  const auto sections = split_sections(data, size, 2);
  std::vector<std::string> overrides;
  if (sections.size() > 1) {
    std::string_view rest = sections[1];
    while (!rest.empty()) {
      const size_t end = std::min(rest.find('\n'), rest.size());
      overrides.emplace_back(rest.substr(0, end));
      rest.remove_prefix(std::min(end + 1, rest.size()));
    }
  }
  std::string printed;
  try {
    printed = config::to_toml(config::parse_config(std::string(sections[0]), "fuzz.toml", overrides).config);
  } catch (const InputError&) {
    return 0;
  }
  // --print-config promises a valid configuration that prints the same again.
  try {
    const std::string again = config::to_toml(config::parse_config(printed, "printed.toml").config);
    FUZZ_CHECK(again == printed, "printing is not stable:\n" + printed + "\n---\n" + again);
  } catch (const InputError& error) {
    FUZZ_CHECK(false, std::string("the printed configuration is refused: ") + error.what() + "\n" + printed);
  }
  return 0;
}

}  // namespace heretic::fuzz
