#pragma once
// The report templates of reports/templates/, compiled in by reports/embed_templates.cmake.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace occult::report {

// The text of reports/templates/<name>; throws std::logic_error for a name that was not built in.
std::string_view report_template(std::string_view name);

// Replaces every "{{key}}" in `text` by its value; a placeholder with no value is a bug in the caller
// (std::logic_error), so that no template ever ships with a hole in it.
std::string fill_template(std::string_view text,
                          std::initializer_list<std::pair<std::string_view, std::string_view>> values);

}  // namespace occult::report
