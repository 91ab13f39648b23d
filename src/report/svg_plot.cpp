#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace heretic::report {
namespace {

// Margins around the plot area, in pixels: room for tick labels and axis labels.
constexpr int kLeft = 64, kRight = 16, kTop = 12, kBottom = 44;

double nice_step(double range, int count) {
  const double raw = range / std::max(count, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double factor : {1.0, 2.0, 5.0, 10.0}) {
    if (factor * magnitude >= raw) return factor * magnitude;
  }
  return 10.0 * magnitude;
}

std::pair<double, double> usable_range(double low, double high) {
  if (!std::isfinite(low) || !std::isfinite(high)) return {0.0, 1.0};
  if (high < low) std::swap(low, high);
  if (high - low < 1e-12 * std::max(1.0, std::fabs(high))) return {low - 1.0, high + 1.0};
  return {low, high};
}

std::string px(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

// The ticks of an axis, adjusting its range (see Axis::round).
std::vector<double> axis_ticks(Axis& axis) {
  std::vector<double> ticks = nice_ticks(axis.low, axis.high);
  if (axis.round || !(axis.high > axis.low)) {
    axis.low = ticks.front();
    axis.high = ticks.back();
    return ticks;
  }
  std::vector<double> inside;
  for (const double tick : ticks) {
    if (tick >= axis.low && tick <= axis.high) inside.push_back(tick);
  }
  return inside;
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_number(double value, int digits) {
  if (std::isnan(value)) return "n/a";
  char text[48];
  std::snprintf(text, sizeof text, "%.*g", digits, value);
  return text;
}

std::vector<double> nice_ticks(double low, double high, int count) {
  const auto [lo, hi] = usable_range(low, high);
  const double step = nice_step(hi - lo, count);
  std::vector<double> ticks;
  const double first = std::floor(lo / step + 1e-9);
  for (int k = 0; k < 64; ++k) {
    // Printed and read back with 12 digits, so that 3 x 0.1 is the 0.3 a reader expects.
    char text[32];
    std::snprintf(text, sizeof text, "%.12g", (first + k) * step);
    const double tick = std::strtod(text, nullptr);
    ticks.push_back(tick == 0.0 ? 0.0 : tick);
    if (tick >= hi - step * 1e-9) break;
  }
  return ticks;
}

Plot::Plot(std::string id, int width, int height, Axis x, Axis y)
    : id_(std::move(id)), width_(width), height_(height), x_(std::move(x)), y_(std::move(y)) {
  x_ticks_ = axis_ticks(x_);
  y_ticks_ = axis_ticks(y_);
}

double Plot::x_pixel(double x) const {
  return kLeft + (x - x_.low) / (x_.high - x_.low) * (width_ - kLeft - kRight);
}

double Plot::y_pixel(double y) const {
  return height_ - kBottom - (y - y_.low) / (y_.high - y_.low) * (height_ - kTop - kBottom);
}

std::string Plot::finish() const {
  std::string svg = "<svg id=\"" + escape(id_) + "\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(width_) + "\" height=\"" + std::to_string(height_) + "\" viewBox=\"0 0 " +
                    std::to_string(width_) + " " + std::to_string(height_) + "\" role=\"img\">\n";
  const double left = kLeft, right = width_ - kRight, top = kTop, bottom = height_ - kBottom;
  for (const double tick : x_ticks_) {
    const std::string x = px(x_pixel(tick));
    svg += "<line class=\"grid\" x1=\"" + x + "\" y1=\"" + px(top) + "\" x2=\"" + x + "\" y2=\"" + px(bottom) + "\"/>";
    svg += "<text class=\"tick\" x=\"" + x + "\" y=\"" + px(bottom + 16) + "\" text-anchor=\"middle\">" +
           format_number(tick) + "</text>\n";
  }
  for (const double tick : y_ticks_) {
    const std::string y = px(y_pixel(tick));
    svg += "<line class=\"grid\" x1=\"" + px(left) + "\" y1=\"" + y + "\" x2=\"" + px(right) + "\" y2=\"" + y + "\"/>";
    svg += "<text class=\"tick\" x=\"" + px(left - 6) + "\" y=\"" + y + "\" dy=\"4\" text-anchor=\"end\">" +
           format_number(tick) + "</text>\n";
  }
  svg += "<rect class=\"frame\" x=\"" + px(left) + "\" y=\"" + px(top) + "\" width=\"" + px(right - left) +
         "\" height=\"" + px(bottom - top) + "\"/>\n";
  svg += "<text class=\"axis\" x=\"" + px((left + right) / 2) + "\" y=\"" + px(height_ - 6.0) +
         "\" text-anchor=\"middle\">" + escape(x_.label) + "</text>\n";
  svg += "<text class=\"axis\" transform=\"translate(14 " + px((top + bottom) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + escape(y_.label) + "</text>\n";
  return svg + body_ + "</svg>\n";
}

std::string polyline_points(const std::vector<std::pair<double, double>>& pixels) {
  std::string points;
  for (const auto& [x, y] : pixels) points += (points.empty() ? "" : " ") + px(x) + "," + px(y);
  return points;
}

}  // namespace heretic::report
