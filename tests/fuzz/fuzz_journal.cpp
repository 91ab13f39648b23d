#include "common/error.h"
#include "fuzz_input.h"
#include "fuzz_targets.h"
#include "io/journal.h"
#include "optimize/search_space.h"
#include "optimize/tpe_sampler.h"

namespace heretic::fuzz {
namespace {

using nlohmann::ordered_json;

// Gives every line that looks like an object a valid "crc32" member (computed over the line's
// text, as JournalWriter does), so that mutations reach the records behind the CRC check.
std::string seal_lines(std::string_view text) {
  std::string sealed;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const bool complete = newline != std::string_view::npos;
    const std::string_view line = text.substr(0, complete ? newline : text.size());
    if (line.size() >= 2 && line.front() == '{' && line.back() == '}') {
      char crc[9];
      std::snprintf(crc, sizeof crc, "%08x", io::crc32(line));
      sealed.append(line.substr(0, line.size() - 1));
      if (line != "{}") sealed += ',';
      sealed += std::string("\"crc32\":\"") + crc + "\"}";
    } else {
      sealed.append(line);
    }
    if (complete) sealed += '\n';
    text.remove_prefix(complete ? newline + 1 : text.size());
  }
  return sealed;
}

// The search space of a run on the organism (6 layers, both components), the shape
// ablation::trial_search_space builds (that library links torch, this target does not).
optimize::SearchSpace heretic_like_space() {
  optimize::SearchSpace space;
  space.add_categorical("direction_scope", {"global", "per layer"});
  space.add_float("direction_index", 2.0, 4.5);
  for (const char* component : {"attn.o_proj", "mlp.down_proj"}) {
    const std::string c = component;
    space.add_float(c + ".max_weight", c == "attn.o_proj" ? 0.8 : -0.25, 1.5);
    space.add_float(c + ".max_weight_position", 3.0, 5.0);
    space.add_float(c + ".min_weight", 0.0, 1.0);
    space.add_float(c + ".min_weight_distance", 1.0, 3.0);
  }
  return space;
}

// What a resume does with the records (optimize::Study::load): the trials of "asked" and "result"
// records rebuild the sampler, which then asks for the next trial.
void resume_sampler(const std::vector<ordered_json>& records) {
  std::vector<std::string> trial_lines;
  for (const ordered_json& record : records) {
    const auto type = record.find("type");
    const auto trial = record.find("trial");
    if (type == record.end() || trial == record.end() || !type->is_string()) continue;
    if (*type != "asked" && *type != "result") continue;
    trial_lines.push_back(trial->dump());
  }
  optimize::TpeOptions options;
  options.n_objectives = 2;
  options.n_startup_trials = 4;
  options.n_ei_candidates = 8;
  optimize::TpeSampler sampler(heretic_like_space(), options);
  try {
    sampler.restore_from_json_lines(trial_lines, "fuzz journal");
  } catch (const InputError&) {
    return;
  }
  sampler.ask();
}

}  // namespace

int fuzz_journal(const uint8_t* data, size_t size) {
  // The first byte's lowest bit: 1 seals the lines with valid CRCs; the rest is the file.
  if (size == 0) return 0;
  static const ScratchFolder folder("journal");
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string bytes = (data[0] & 1) != 0 ? seal_lines(rest) : std::string(rest);
  const std::filesystem::path path = folder.path() / "journal.jsonl";
  folder.write("journal.jsonl", bytes);
  io::JournalContents contents;
  try {
    contents = io::read_journal(path);
  } catch (const InputError&) {
    return 0;
  }
  for (const ordered_json& record : contents.records) {
    FUZZ_CHECK(record.is_object() && !record.contains("crc32"), record.dump());
  }
  resume_sampler(contents.records);
  // A writer opened on the file keeps every record that reads back (cutting a torn last line),
  // so that its next append makes a sound journal.
  {
    io::JournalWriter writer(path);
    writer.append({{"type", "probe"}});
  }
  const io::JournalContents after = io::read_journal(path);
  FUZZ_CHECK(!after.torn_tail && after.records.size() == contents.records.size() + 1,
             std::to_string(after.records.size()) + " records after appending to " +
                 std::to_string(contents.records.size()));
  for (size_t i = 0; i < contents.records.size(); ++i) {
    FUZZ_CHECK(after.records[i] == contents.records[i], "record " + std::to_string(i) + " changed");
  }
  FUZZ_CHECK(after.records.back() == ordered_json({{"type", "probe"}}), after.records.back().dump());
  return 0;
}

}  // namespace heretic::fuzz
