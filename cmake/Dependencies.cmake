# All dependencies are Debian packages (scripts/setup.sh installs them). On the GPU machine,
# header-only ones come from extracted .deb files under .deps/ (scripts/gpu/fetch-deps.sh).
if(EXISTS ${PROJECT_SOURCE_DIR}/.deps/usr/include)
  list(APPEND CMAKE_PREFIX_PATH ${PROJECT_SOURCE_DIR}/.deps/usr)
  include_directories(SYSTEM ${PROJECT_SOURCE_DIR}/.deps/usr/include)
endif()

find_package(Threads REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
# toml++ is used header-only so that the GPU machine needs no shared library from Debian.
find_path(TOMLPP_INCLUDE_DIR toml++/toml.h REQUIRED)
add_library(occult_tomlpp INTERFACE)
target_include_directories(occult_tomlpp SYSTEM INTERFACE ${TOMLPP_INCLUDE_DIR})
target_compile_definitions(occult_tomlpp INTERFACE TOML_HEADER_ONLY=1 TOML_EXCEPTIONS=1)

if(OCCULT_SIMGRID)
  find_package(PkgConfig REQUIRED)
  # Debian's SimGrid ships no CMake config, only simgrid.pc.
  pkg_check_modules(SIMGRID REQUIRED IMPORTED_TARGET simgrid>=3.32)
  find_package(Boost 1.74 REQUIRED)
  find_path(METIS_INCLUDE_DIR metis.h REQUIRED)
  find_library(METIS_LIBRARY metis REQUIRED)
endif()

if(OCCULT_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(OCCULT_BENCH)
  find_package(benchmark REQUIRED)
endif()
