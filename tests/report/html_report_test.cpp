// The report page drawn from a results.h5 in memory: what a user looks for on it.
#include "report/html_report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/error.h"
#include "report/svg_plot.h"

namespace heretic::report {
namespace {

namespace fs = std::filesystem;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The <svg id="..."> element of the page.
std::string chart(const std::string& html, const std::string& id) {
  const size_t begin = html.find("<svg id=\"" + id + "\"");
  if (begin == std::string::npos) return "";
  return html.substr(begin, html.find("</svg>", begin) - begin);
}

io::TrialRecord trial(int64_t number, double refusals, double kl) {
  io::TrialRecord t;
  t.number = number;
  t.params_json = R"({"direction_index":3.5,"attn.o_proj":{"max_weight":1.2}})";
  t.values = {refusals, kl};
  t.objectives = {"Keywords", "KL divergence"};
  t.refusals = static_cast<int64_t>(refusals * 100);
  t.refusal_prompts = 100;
  t.kl = kl;
  t.seconds = 1.5;
  t.status = "complete";
  t.score_values = {refusals, kl};
  t.score_sums = {refusals * 100, kl * 100};
  t.score_counts = {100, 100};
  return t;
}

io::Results sample() {
  io::Results r;
  r.run = {"0.1.0", "model = \"org/m\"\n# <script>alert(1)</script>\n", "org/m", "abc123", 2, 7};
  r.scorers = {"Keywords", "KL divergence"};
  r.objective_directions = {"minimize", "minimize"};
  r.trials = {trial(1, 0.9, 0.01), trial(2, 0.2, 0.3), trial(3, 0.05, 0.08), trial(4, 0.5, 0.5), trial(5, 0.0, 0.9)};
  io::TrialRecord failed;
  failed.number = 6;
  failed.status = "failed";
  r.trials.push_back(failed);
  r.pareto = {1, 3, 5};
  r.memory = {{"load", "trials"}, {24LL << 30, 24LL << 30}, {300LL << 20, 400LL << 20, 310LL << 20, 3LL << 29}};
  // Three layers of a 4-wide residual: layer 1 and 2 point the same way, the embeddings elsewhere.
  r.good_mean = {3, 4, {0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0}};
  r.bad_mean = {3, 4, {0, 1, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0}};
  return r;
}

TEST(HtmlReport, EveryFinishedTrialIsAPointAndTheFrontIsMarkedAndJoined) {
  const std::string html = html_report(sample());
  const std::string front = chart(html, "pareto");
  ASSERT_FALSE(front.empty());
  EXPECT_EQ(count(front, "<circle class=\"trial"), 5u);  // the failed trial has no values to draw
  EXPECT_EQ(count(front, "<circle class=\"trial front\""), 3u);
  EXPECT_EQ(count(front, "<polyline class=\"front\""), 1u);
  // Hovering names the trial and its scores; the front's points carry their numbers as labels.
  EXPECT_NE(front.find("<title>Trial 3: Keywords 0.05, KL divergence 0.08</title>"), std::string::npos);
  EXPECT_NE(front.find("<text class=\"label\""), std::string::npos);
  // Axes are labelled with the objectives: KL across, refusals up.
  EXPECT_NE(front.find(">KL divergence</text>"), std::string::npos);
  EXPECT_NE(front.find(">Keywords</text>"), std::string::npos);
}

TEST(HtmlReport, HistoryShowsEachObjectiveWithTheBestSoFar) {
  const std::string html = html_report(sample());
  for (const std::string id : {"history-0", "history-1"}) {
    const std::string history = chart(html, id);
    ASSERT_FALSE(history.empty()) << id;
    EXPECT_EQ(count(history, "<circle class=\"history\""), 5u) << id;
    EXPECT_EQ(count(history, "<polyline class=\"best\""), 1u) << id;
  }
  EXPECT_NE(chart(html, "history-0").find("Keywords (minimised)"), std::string::npos);
}

TEST(HtmlReport, DirectionsShowEveryLayerAndTheCosinesBetweenThem) {
  const std::string html = html_report(sample());
  EXPECT_EQ(count(chart(html, "direction-norms"), "<rect class=\"bar\""), 3u);
  const std::string cosines = chart(html, "direction-cosines");
  EXPECT_EQ(count(cosines, "<rect class=\"cell\""), 9u);
  EXPECT_NE(cosines.find("layer 1 vs layer 2: cosine 1</title>"), std::string::npos);
  EXPECT_NE(cosines.find("embeddings vs layer 1: cosine 0</title>"), std::string::npos);
}

TEST(HtmlReport, ParetoTrialsConfigurationAndProvenanceAreShownEscaped) {
  const std::string html = html_report(sample());
  const size_t table = html.find("<table id=\"pareto-trials\"");
  ASSERT_NE(table, std::string::npos);
  const std::string trials = html.substr(table, html.find("</table>", table) - table);
  EXPECT_EQ(count(trials, "<tr><td class=\"num\">"), 3u);
  EXPECT_NE(html.find("direction_index = 3.5"), std::string::npos);
  EXPECT_NE(html.find("5/100"), std::string::npos);  // trial 3's refusals
  // The configuration is shown as text: a template or prompt in it cannot inject markup.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("abc123"), std::string::npos);
  EXPECT_NE(html.find("6 finished (5 complete)"), std::string::npos);
}

TEST(HtmlReport, MemoryShowsEveryRankAfterEachPhase) {
  const std::string html = html_report(sample());
  const size_t table = html.find("<table id=\"memory\"");
  ASSERT_NE(table, std::string::npos);
  const std::string memory = html.substr(table, html.find("</table>", table) - table);
  EXPECT_NE(memory.find("<th>after trials</th>"), std::string::npos);
  EXPECT_EQ(count(memory, "<tr><td class=\"num\">"), 2u);
  EXPECT_NE(memory.find("1.50 GiB"), std::string::npos);  // rank 1 after its trials
}

TEST(HtmlReport, ARunWithoutFinishedTrialsStillGivesAPage) {
  io::Results r = sample();
  r.trials.clear();
  r.pareto.clear();
  const std::string html = html_report(r);
  EXPECT_NE(html.find("No finished trial has objective values yet."), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(HtmlReport, WritingReplacesThePageAtomicallyAndNamesAPathItCannotWrite) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-report-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_html_report(dir / "report.html", sample());
  write_html_report(dir / "report.html", sample());
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u);  // no temporary file left behind
  try {
    write_html_report(dir / "missing" / "report.html", sample());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing/report.html"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(SvgPlot, TicksAreRoundAndCoverTheRange) {
  EXPECT_EQ(nice_ticks(0.0, 0.37), (std::vector<double>{0.0, 0.1, 0.2, 0.3, 0.4}));
  EXPECT_EQ(nice_ticks(3.0, 3.0), (std::vector<double>{2.0, 2.5, 3.0, 3.5, 4.0}));
  EXPECT_EQ(format_number(0.042137), "0.04214");
  EXPECT_EQ(format_number(std::nan("")), "n/a");
}

}  // namespace
}  // namespace heretic::report
