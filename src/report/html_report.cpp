#include "report/html_report.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "common/error.h"
#include "io/memory_usage.h"
#include "report/svg_plot.h"

namespace heretic::report {
namespace {

constexpr const char* kStyle = R"(
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; border: 1px solid #e3e3e3; padding: 8px; overflow-x: auto; font-size: 12px; }
.chart { display: block; margin: 8px 0; background: #fff; }
.chart .grid { stroke: #eee; } .chart .frame { fill: none; stroke: #999; }
.chart .tick { font-size: 11px; fill: #555; } .chart .axis { font-size: 12px; fill: #222; }
.chart circle.trial { fill: #9bb7d4; stroke: #4a6f94; stroke-width: 0.8; }
.chart circle.trial.front { fill: #d9534f; stroke: #8b1e1b; }
.chart circle.history { fill: #9bb7d4; stroke: #4a6f94; stroke-width: 0.6; }
.chart polyline.front { fill: none; stroke: #d9534f; stroke-width: 1.5; }
.chart polyline.best { fill: none; stroke: #2f7d32; stroke-width: 1.5; }
.chart text.label { font-size: 10px; fill: #8b1e1b; }
.chart rect.bar { fill: #7a9cc6; } .chart rect.cell { stroke: #fff; stroke-width: 0.5; }
.muted { color: #777; } .row { display: flex; flex-wrap: wrap; gap: 16px; }
)";

bool has_values(const io::TrialRecord& trial, size_t count) {
  if (trial.values.size() < count) return false;
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(trial.values[i])) return false;
  }
  return true;
}

std::vector<std::string> objective_names(const io::Results& results) {
  for (const auto& trial : results.trials) {
    if (!trial.objectives.empty()) return trial.objectives;
  }
  return {};
}

bool maximized(const io::Results& results, size_t objective) {
  return objective < results.objective_directions.size() && results.objective_directions[objective] == "maximize";
}

std::string trial_title(const io::TrialRecord& trial, const std::vector<std::string>& objectives) {
  std::string title = "Trial " + std::to_string(trial.number);
  for (size_t i = 0; i < objectives.size() && i < trial.values.size(); ++i) {
    title += (i == 0 ? ": " : ", ") + objectives[i] + " " + format_number(trial.values[i]);
  }
  return escape(title);
}

// Refusals (first objective) against KL (second); with one objective, the objective by trial.
std::string pareto_chart(const io::Results& results, const std::vector<std::string>& objectives) {
  const size_t dims = std::min<size_t>(objectives.size(), 2);
  if (dims == 0) return "<p class=\"muted\">No finished trial has objective values yet.</p>\n";
  const std::set<int64_t> front(results.pareto.begin(), results.pareto.end());
  auto x_of = [&](const io::TrialRecord& t) { return dims == 2 ? t.values[1] : static_cast<double>(t.number); };
  auto y_of = [&](const io::TrialRecord& t) { return t.values[0]; };
  double x_low = INFINITY, x_high = -INFINITY, y_low = INFINITY, y_high = -INFINITY;
  for (const auto& trial : results.trials) {
    if (!has_values(trial, dims)) continue;
    x_low = std::min(x_low, x_of(trial));
    x_high = std::max(x_high, x_of(trial));
    y_low = std::min(y_low, y_of(trial));
    y_high = std::max(y_high, y_of(trial));
  }
  Plot plot("pareto", 720, 420, Axis{dims == 2 ? objectives[1] : "trial", x_low, x_high}, Axis{objectives[0], y_low, y_high});
  std::vector<std::pair<double, double>> front_points;  // data coordinates
  std::string labels;
  for (const auto& trial : results.trials) {
    if (!has_values(trial, dims)) continue;
    const bool on_front = front.count(trial.number) > 0;
    const double x = plot.x_pixel(x_of(trial)), y = plot.y_pixel(y_of(trial));
    char circle[160];
    std::snprintf(circle, sizeof circle, "<circle class=\"trial%s\" data-trial=\"%lld\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\">",
                  on_front ? " front" : "", static_cast<long long>(trial.number), x, y, on_front ? "5" : "3.5");
    plot.body() += circle + std::string("<title>") + trial_title(trial, objectives) + "</title></circle>\n";
    if (on_front) {
      front_points.emplace_back(x_of(trial), y_of(trial));
      char label[128];
      std::snprintf(label, sizeof label, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\">%lld</text>\n", x + 6, y - 6,
                    static_cast<long long>(trial.number));
      labels += label;
    }
  }
  std::sort(front_points.begin(), front_points.end());
  std::vector<std::pair<double, double>> pixels;
  for (const auto& [x, y] : front_points) pixels.emplace_back(plot.x_pixel(x), plot.y_pixel(y));
  // The line goes under the points so that every point stays hoverable.
  plot.body().insert(0, "<polyline class=\"front\" points=\"" + polyline_points(pixels) + "\"/>\n");
  plot.body() += labels;
  return plot.finish();
}

// Each objective by trial number, with the best value so far as a step line.
std::string history_charts(const io::Results& results, const std::vector<std::string>& objectives) {
  std::string html = "<div class=\"row\">\n";
  for (size_t k = 0; k < objectives.size(); ++k) {
    std::vector<const io::TrialRecord*> trials;
    for (const auto& trial : results.trials) {
      if (has_values(trial, k + 1)) trials.push_back(&trial);
    }
    if (trials.empty()) continue;
    std::sort(trials.begin(), trials.end(), [](auto* a, auto* b) { return a->number < b->number; });
    double low = INFINITY, high = -INFINITY;
    for (const auto* trial : trials) {
      low = std::min(low, trial->values[k]);
      high = std::max(high, trial->values[k]);
    }
    Plot plot("history-" + std::to_string(k), 520, 300,
              Axis{"trial", static_cast<double>(trials.front()->number), static_cast<double>(trials.back()->number)},
              Axis{objectives[k] + (maximized(results, k) ? " (maximised)" : " (minimised)"), low, high});
    std::vector<std::pair<double, double>> best;
    double so_far = maximized(results, k) ? -INFINITY : INFINITY;
    for (const auto* trial : trials) {
      const double value = trial->values[k];
      const double x = plot.x_pixel(static_cast<double>(trial->number)), y = plot.y_pixel(value);
      char circle[128];
      std::snprintf(circle, sizeof circle, "<circle class=\"history\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\">", x, y);
      plot.body() += circle + std::string("<title>") + trial_title(*trial, objectives) + "</title></circle>\n";
      const double next = maximized(results, k) ? std::max(so_far, value) : std::min(so_far, value);
      if (!best.empty()) best.emplace_back(x, best.back().second);
      best.emplace_back(x, plot.y_pixel(next));
      so_far = next;
    }
    plot.body() += "<polyline class=\"best\" points=\"" + polyline_points(best) + "\"><title>best so far</title></polyline>\n";
    html += plot.finish();
  }
  return html + "</div>\n";
}

// Row l of bad_mean - good_mean: the unnormalised refusal direction of layer l.
std::vector<std::vector<double>> mean_differences(const io::Results& results) {
  const io::Matrix& good = results.good_mean;
  const io::Matrix& bad = results.bad_mean;
  std::vector<std::vector<double>> rows;
  if (good.rows == 0 || good.rows != bad.rows || good.cols != bad.cols) return rows;
  for (int64_t l = 0; l < good.rows; ++l) {
    std::vector<double> row(static_cast<size_t>(good.cols));
    for (int64_t j = 0; j < good.cols; ++j) {
      const size_t at = static_cast<size_t>(l * good.cols + j);
      row[static_cast<size_t>(j)] = static_cast<double>(bad.values[at]) - static_cast<double>(good.values[at]);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

double norm(const std::vector<double>& v) {
  double sum = 0.0;
  for (const double x : v) sum += x * x;
  return std::sqrt(sum);
}

// Blue (-1) through white (0) to red (+1).
std::string cosine_colour(double c) {
  c = std::clamp(c, -1.0, 1.0);
  const int fade = static_cast<int>(std::lround(255.0 * (1.0 - std::fabs(c))));
  char colour[16];
  if (c >= 0) std::snprintf(colour, sizeof colour, "#ff%02x%02x", fade, fade);
  else std::snprintf(colour, sizeof colour, "#%02x%02xff", fade, fade);
  return colour;
}

std::string layer_name(size_t l) { return l == 0 ? "embeddings" : "layer " + std::to_string(l); }

std::string direction_charts(const io::Results& results) {
  const auto diffs = mean_differences(results);
  if (diffs.empty()) return "<p class=\"muted\">results.h5 holds no residual means.</p>\n";
  std::vector<double> norms;
  for (const auto& d : diffs) norms.push_back(norm(d));
  const double top = *std::max_element(norms.begin(), norms.end());
  Plot bars("direction-norms", 520, 300, Axis{"layer (0 = embeddings)", -0.5, diffs.size() - 0.5, /*round=*/false}, Axis{"|mean(bad) - mean(good)|", 0.0, top});
  const double width = std::max(1.0, (bars.x_pixel(1.0) - bars.x_pixel(0.0)) * 0.7);
  for (size_t l = 0; l < norms.size(); ++l) {
    char bar[200];
    const double x = bars.x_pixel(static_cast<double>(l)) - width / 2, y = bars.y_pixel(norms[l]);
    std::snprintf(bar, sizeof bar, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">", x, y,
                  width, std::max(0.0, bars.y_pixel(0.0) - y));
    bars.body() += bar + std::string("<title>") + layer_name(l) + ": " + format_number(norms[l]) + "</title></rect>\n";
  }
  // Cosine similarity between the layers' directions, as a heat map.
  const size_t n = diffs.size();
  const int cell = static_cast<int>(std::clamp<size_t>(360 / n, 4, 28));
  const int offset = 40, size = offset + cell * static_cast<int>(n) + 20;
  std::string map = "<svg id=\"direction-cosines\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(size) + "\" height=\"" + std::to_string(size) + "\">\n";
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      double dot = 0.0;
      for (size_t k = 0; k < diffs[i].size(); ++k) dot += diffs[i][k] * diffs[j][k];
      const double denominator = norms[i] * norms[j];
      const double c = denominator > 0 ? dot / denominator : 0.0;
      char rect[160];
      std::snprintf(rect, sizeof rect, "<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">",
                    offset + cell * static_cast<int>(j), offset + cell * static_cast<int>(i), cell, cell,
                    cosine_colour(c).c_str());
      map += rect + std::string("<title>") + layer_name(i) + " vs " + layer_name(j) + ": cosine " + format_number(c, 3) +
             "</title></rect>";
    }
    map += "\n";
  }
  for (size_t i = 0; i < n; i += std::max<size_t>(1, n / 8)) {
    const int at = offset + cell * static_cast<int>(i) + cell / 2;
    map += "<text class=\"tick\" x=\"" + std::to_string(offset - 4) + "\" y=\"" + std::to_string(at + 4) +
           "\" text-anchor=\"end\">" + std::to_string(i) + "</text><text class=\"tick\" x=\"" + std::to_string(at) +
           "\" y=\"" + std::to_string(offset - 6) + "\" text-anchor=\"middle\">" + std::to_string(i) + "</text>\n";
  }
  map += "<text class=\"tick\" x=\"" + std::to_string(offset) + "\" y=\"" + std::to_string(size - 1) +
         "\">cosine: blue -1, white 0, red +1</text>\n</svg>\n";
  return "<div class=\"row\">\n" + bars.finish() + map + "</div>\n";
}

std::string parameters_text(const std::string& params_json) {
  const auto params = nlohmann::ordered_json::parse(params_json, nullptr, /*allow_exceptions=*/false);
  if (params.is_discarded() || !params.is_object()) return "<pre>" + escape(params_json) + "</pre>";
  std::string text;
  for (const auto& [key, value] : params.items()) text += key + " = " + value.dump() + "\n";
  return "<pre>" + escape(text) + "</pre>";
}

std::string pareto_table(const io::Results& results) {
  if (results.pareto.empty()) return "<p class=\"muted\">The Pareto front is empty.</p>\n";
  std::map<int64_t, const io::TrialRecord*> by_number;
  for (const auto& trial : results.trials) by_number[trial.number] = &trial;
  std::string html = "<table id=\"pareto-trials\"><tr><th>trial</th><th>refusals</th>";
  for (const auto& scorer : results.scorers) html += "<th>" + escape(scorer) + "</th>";
  html += "<th>parameters</th></tr>\n";
  for (const int64_t number : results.pareto) {
    const auto found = by_number.find(number);
    if (found == by_number.end()) continue;
    const io::TrialRecord& trial = *found->second;
    html += "<tr><td class=\"num\">" + std::to_string(number) + "</td><td class=\"num\">" +
            (trial.refusals >= 0 ? std::to_string(trial.refusals) + "/" + std::to_string(trial.refusal_prompts) : "n/a") +
            "</td>";
    for (size_t i = 0; i < results.scorers.size(); ++i) {
      const std::string cell = i < trial.score_values.size() ? format_number(trial.score_values[i]) : "n/a";
      html += "<td class=\"num\">" + escape(cell) + "</td>";
    }
    html += "<td>" + parameters_text(trial.params_json) + "</td></tr>\n";
  }
  return html + "</table>\n";
}

std::string provenance(const io::Results& results) {
  size_t complete = 0;
  double seconds = 0.0;
  for (const auto& trial : results.trials) {
    complete += trial.status == "complete";
    seconds += trial.seconds;
  }
  auto row = [](const std::string& key, const std::string& value) {
    return "<tr><th>" + escape(key) + "</th><td>" + escape(value) + "</td></tr>\n";
  };
  return "<table id=\"provenance\">\n" + row("model", results.run.model) +
         row("model revision", results.run.model_revision.empty() ? "(local folder)" : results.run.model_revision) +
         row("heretic-mpi", results.run.version) + row("MPI ranks", std::to_string(results.run.world_size)) +
         row("seed", std::to_string(results.run.seed)) +
         row("trials", std::to_string(results.trials.size()) + " finished (" + std::to_string(complete) + " complete)") +
         row("trial time", format_number(seconds, 4) + " s in all") +
         row("Pareto front", std::to_string(results.pareto.size()) + " trials") + "</table>\n";
}

std::string memory_table(const io::MemoryTable& memory) {
  if (memory.ranks() == 0) return "<p class=\"muted\">Not measured.</p>\n";
  std::string html = "<table id=\"memory\"><tr><th>rank</th><th>node allows</th>";
  for (const auto& phase : memory.phases) html += "<th>after " + escape(phase) + "</th>";
  html += "</tr>\n";
  for (size_t r = 0; r < memory.ranks(); ++r) {
    html += "<tr><td class=\"num\">" + std::to_string(r) + "</td><td class=\"num\">" +
            escape(io::format_bytes(memory.node_bytes[r])) + "</td>";
    for (size_t p = 0; p < memory.phases.size(); ++p) {
      html += "<td class=\"num\">" + escape(io::format_bytes(memory.peak_bytes[r * memory.phases.size() + p])) + "</td>";
    }
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

}  // namespace

std::string html_report(const io::Results& results) {
  const auto objectives = objective_names(results);
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>heretic-mpi report: " +
                     escape(results.run.model) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  html += "<h1>heretic-mpi report</h1>\n<p class=\"muted\">" + escape(results.run.model) +
          " — drawn from results.h5; hover a point for its trial.</p>\n";
  html += provenance(results);
  html += "<h2>Pareto front</h2>\n" + pareto_chart(results, objectives);
  html += "<h2>Optimisation history</h2>\n" + history_charts(results, objectives);
  html += "<h2>Refusal directions</h2>\n<p class=\"muted\">Per layer, the norm of the difference of the mean "
          "residuals (harmful minus harmless prompts), and the cosine similarity of these differences between "
          "layers.</p>\n" +
          direction_charts(results);
  html += "<h2>Pareto trials</h2>\n" + pareto_table(results);
  html += "<h2>Memory</h2>\n<p class=\"muted\">Peak resident memory of each rank up to the end of each "
          "phase.</p>\n" + memory_table(results.memory);
  html += "<h2>Configuration</h2>\n<pre id=\"configuration\">" + escape(results.run.config_toml) + "</pre>\n";
  return html + "</body>\n</html>\n";
}

void write_html_report(const std::filesystem::path& path, const io::Results& results) {
  const std::string html = html_report(results);
  auto temporary = path;
  temporary += ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << html;
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      throw InputError(path.string() + ": cannot write the report");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw InputError(path.string() + ": cannot write the report: " + ec.message());
  }
}

}  // namespace heretic::report
