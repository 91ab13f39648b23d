#include "optimize/trial.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/error.h"

namespace heretic::optimize {
namespace {

using nlohmann::json;

json number_to_json(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

[[noreturn]] void fail_at(const std::string& where, const std::string& key,
                          const std::string& problem) {
  throw InputError(where + ": key '" + key + "': " + problem);
}

double number_from_json(const json& j, const std::string& where, const std::string& key) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  }
  fail_at(where, key, "expected a number, got " + j.dump());
}

TrialState state_from_string(const std::string& s, const std::string& where) {
  if (s == "running") return TrialState::kRunning;
  if (s == "complete") return TrialState::kComplete;
  if (s == "failed") return TrialState::kFailed;
  fail_at(where, "state", "expected running, complete or failed, got '" + s + "'");
}

const json& member(const json& object, const char* key, const std::string& where,
                   const std::string& path) {
  auto it = object.find(key);
  if (it == object.end()) fail_at(where, path, "missing");
  return *it;
}

}  // namespace

const char* to_string(TrialState state) {
  switch (state) {
    case TrialState::kRunning:
      return "running";
    case TrialState::kComplete:
      return "complete";
    case TrialState::kFailed:
      return "failed";
  }
  return "unknown";
}

const std::string& Trial::choice(const SearchSpace& space, std::size_t index) const {
  return space[index].choices.at(static_cast<std::size_t>(params.at(index)));
}

std::string to_json_line(const Trial& trial, const SearchSpace& space) {
  json params = json::object();
  for (std::size_t i = 0; i < space.size(); ++i) {
    if (space[i].kind == ParamKind::kCategorical) {
      params[space[i].name] = static_cast<int>(trial.params[i]);
    } else {
      params[space[i].name] = trial.params[i];
    }
  }
  json values = json::array();
  for (double v : trial.values) values.push_back(number_to_json(v));
  json line = {{"trial", trial.number},
               {"state", to_string(trial.state)},
               {"params", params},
               {"values", values},
               {"streams", {{"startup", trial.streams.startup}, {"tpe", trial.streams.tpe}}}};
  return line.dump();
}

Trial trial_from_json_line(const std::string& line, const SearchSpace& space,
                           const std::string& where) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::parse_error& e) {
    throw InputError(where + ": not valid JSON at byte " + std::to_string(e.byte) + ": " +
                     e.what());
  }
  if (!j.is_object()) throw InputError(where + ": expected a JSON object");
  Trial trial;
  const json& number = member(j, "trial", where, "trial");
  if (!number.is_number_integer() || number.get<long long>() < 0) {
    fail_at(where, "trial", "expected a non-negative integer, got " + number.dump());
  }
  trial.number = number.get<int>();
  const json& state = member(j, "state", where, "state");
  if (!state.is_string()) fail_at(where, "state", "expected a string");
  trial.state = state_from_string(state.get<std::string>(), where);

  const json& params = member(j, "params", where, "params");
  if (!params.is_object()) fail_at(where, "params", "expected an object");
  for (std::size_t i = 0; i < space.size(); ++i) {
    const ParamSpec& spec = space[i];
    const std::string key = "params." + spec.name;
    const json& value = member(params, spec.name.c_str(), where, key);
    if (!value.is_number()) fail_at(where, key, "expected a number, got " + value.dump());
    const double v = value.get<double>();
    if (spec.kind == ParamKind::kCategorical) {
      if (!value.is_number_integer() || v < 0 || v >= static_cast<double>(spec.n_choices())) {
        fail_at(where, key,
                "expected a choice index in [0, " + std::to_string(spec.n_choices()) + "), got " +
                    value.dump());
      }
    } else if (!(v >= spec.low && v <= spec.high)) {
      fail_at(where, key, "value " + value.dump() + " is outside the search range");
    }
    trial.params.push_back(v);
  }
  if (params.size() != space.size()) {
    for (const auto& item : params.items()) {
      if (space.index_of(item.key()) < 0) {
        fail_at(where, "params." + item.key(), "not a parameter of the search space");
      }
    }
  }

  const json& values = member(j, "values", where, "values");
  if (!values.is_array()) fail_at(where, "values", "expected an array");
  for (std::size_t k = 0; k < values.size(); ++k) {
    trial.values.push_back(number_from_json(values[k], where, "values[" + std::to_string(k) + "]"));
  }
  if (trial.state == TrialState::kComplete && trial.values.empty()) {
    fail_at(where, "values", "a complete trial needs its objective values");
  }

  const json& streams = member(j, "streams", where, "streams");
  for (const char* key : {"startup", "tpe"}) {
    const json& position = member(streams, key, where, std::string("streams.") + key);
    if (!position.is_number_unsigned()) {
      fail_at(where, std::string("streams.") + key, "expected a non-negative integer");
    }
  }
  trial.streams.startup = streams["startup"].get<std::uint64_t>();
  trial.streams.tpe = streams["tpe"].get<std::uint64_t>();
  return trial;
}

}  // namespace heretic::optimize
