#include <initializer_list>
#include <stdexcept>
#include <utility>

#include "sim/cli/host/report_templates.hpp"

namespace occult::report {

std::string fill_template(std::string_view text,
                          std::initializer_list<std::pair<std::string_view, std::string_view>> values) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) throw std::logic_error("report template: unclosed {{");
    out.append(text.substr(pos, open - pos));
    std::string_view key = text.substr(open + 2, close - open - 2);
    bool found = false;
    for (const auto& [k, v] : values) {
      if (k == key) {
        out.append(v);
        found = true;
        break;
      }
    }
    if (!found) throw std::logic_error("report template: no value for {{" + std::string(key) + "}}");
    pos = close + 2;
  }
  return out;
}

}  // namespace occult::report
