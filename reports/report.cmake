# occult_report: the library behind `occult report` (sim/cli/host/report_*.cpp) and the sweep's results
# log (results_log.cpp, which checks rows as the report reads them). The HTML and gnuplot
# templates in reports/templates/ are compiled into it, so the binary needs no data files at run time;
# editing a template rebuilds the library. Included from sim/cli/CMakeLists.txt (host tools only).
file(GLOB OCCULT_REPORT_TEMPLATES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/reports/templates/*)
file(GLOB OCCULT_REPORT_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/sim/cli/host/report_*.cpp
     ${PROJECT_SOURCE_DIR}/sim/cli/host/results_log.cpp)
set(OCCULT_REPORT_EMBEDDED ${CMAKE_CURRENT_BINARY_DIR}/report_templates_embedded.cpp)
add_custom_command(
  OUTPUT ${OCCULT_REPORT_EMBEDDED}
  COMMAND ${CMAKE_COMMAND} -DOUT=${OCCULT_REPORT_EMBEDDED} -DDIR=${PROJECT_SOURCE_DIR}/reports/templates
          -P ${PROJECT_SOURCE_DIR}/reports/embed_templates.cmake
  DEPENDS ${OCCULT_REPORT_TEMPLATES} ${PROJECT_SOURCE_DIR}/reports/embed_templates.cmake
  COMMENT "Embedding report templates"
  VERBATIM)
add_library(occult_report STATIC ${OCCULT_REPORT_SOURCES} ${OCCULT_REPORT_EMBEDDED})
target_link_libraries(occult_report PUBLIC occult_core)
occult_warnings(occult_report)
