// Shared by the chat-template tests: fixture paths, file reading, the pinned clock the
// goldens were made with (render_oracle.py pins strftime_now to 2024-07-26).
#pragma once

#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace heretic::hf::testing {

inline std::filesystem::path fixture_dir() {
  return std::filesystem::path(HERETIC_SOURCE_DIR) / "tests" / "fixtures" / "chat_template";
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline nlohmann::ordered_json read_json(const std::filesystem::path& path) {
  return nlohmann::ordered_json::parse(read_file(path));
}

// 2024-07-26 00:00, the date of every golden.
inline std::tm oracle_date() {
  std::tm t{};
  t.tm_year = 2024 - 1900;
  t.tm_mon = 6;
  t.tm_mday = 26;
  const std::time_t seconds = timegm(&t);  // also fills tm_wday and tm_yday
  gmtime_r(&seconds, &t);
  return t;
}

}  // namespace heretic::hf::testing
