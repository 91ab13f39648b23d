// Small building blocks for charts drawn as inline SVG: a plot area with linear axes, tick
// marks at round values, and text escaping. The report is read offline on any machine, so it
// draws everything itself and fetches nothing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace heretic::report {

// Text safe inside HTML/SVG elements and attribute values.
std::string escape(std::string_view text);

// A number with `digits` significant digits, without trailing zeros ("0.0421", "3", "1.2e-05").
std::string format_number(double value, int digits = 4);

// Round tick values covering [low, high] (about `count` of them, steps of 1, 2 or 5 x 10^k).
std::vector<double> nice_ticks(double low, double high, int count = 5);

struct Axis {
  std::string label;
  double low = 0.0;
  double high = 1.0;
  bool round = true;  // widen [low, high] to the outer round ticks; else keep it and tick inside
};

// A chart of `width` x `height` pixels: maps data to pixels and draws the frame, ticks and
// axis labels. Elements are appended to `body()` and closed by `finish()`.
class Plot {
 public:
  // Widens round axes to round values; an empty or degenerate range becomes [v - 1, v + 1].
  Plot(std::string id, int width, int height, Axis x, Axis y);

  double x_pixel(double x) const;
  double y_pixel(double y) const;
  std::string& body() { return body_; }
  // The whole <svg> element, frame first so that data are drawn over the grid.
  std::string finish() const;

 private:
  std::string id_;
  int width_, height_;
  Axis x_, y_;
  std::vector<double> x_ticks_, y_ticks_;
  std::string body_;
};

// "x1,y1 x2,y2 ..." for a <polyline>.
std::string polyline_points(const std::vector<std::pair<double, double>>& pixels);

}  // namespace heretic::report
