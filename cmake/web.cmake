# The browser playground (docs/playground.md): the symbolic core and the CLI's
# own command code compiled to WebAssembly with Debian's emscripten, and one
# self-contained page, build-web/netshape.html:
#
#   emcmake cmake -S . -B build-web && cmake --build build-web
#
# No LibTorch, no Python. Emscripten's sysroot does not see /usr/include, so
# the three header-only libraries are linked into a folder of their own (all
# of /usr/include would bring glibc's headers); fmt is used header-only.
set(web_include ${CMAKE_BINARY_DIR}/system-include)
file(MAKE_DIRECTORY ${web_include})
foreach(dir fmt nlohmann CLI)
  if(NOT EXISTS /usr/include/${dir})
    message(FATAL_ERROR "/usr/include/${dir} is missing: bash .ci/install-deps installs it")
  endif()
  if(NOT EXISTS ${web_include}/${dir})
    file(CREATE_LINK /usr/include/${dir} ${web_include}/${dir} SYMBOLIC)
  endif()
endforeach()

# Exceptions: CLI11 and nlohmann_json report through them (emscripten drops
# catching by default).
set(web_flags -fexceptions)
add_executable(netshape_web
  src/diagnostic.cc src/text.cc src/io.cc src/expr.cc src/json_cursor.cc src/kinds.cc src/kinds_doc.cc src/parse.cc src/formula.cc src/network.cc
  src/evaluate.cc src/analysis.cc src/pipeline.cc src/fix.cc src/explain.cc src/solve.cc src/graph.cc src/export.cc
  src/symbolic.cc src/report.cc src/main.cc src/wasm_api.cc)
target_include_directories(netshape_web PRIVATE src)
target_include_directories(netshape_web SYSTEM PRIVATE ${web_include})
target_compile_definitions(netshape_web PRIVATE FMT_HEADER_ONLY=1)
# -g0: the build type's debug info would put megabytes of DWARF in the page.
target_compile_options(netshape_web PRIVATE ${web_flags} -O3 -g0 -Wall -Wextra)
# One file (the WASM inside the JS: no fetch, which Chromium refuses from
# file://); a factory function (createNetshape) the page and Node both load.
target_link_options(netshape_web PRIVATE ${web_flags} -O3 -g0
  -sSINGLE_FILE=1 -sMODULARIZE=1 -sEXPORT_NAME=createNetshape -sENVIRONMENT=web,node
  -sALLOW_MEMORY_GROWTH=1 -sEXIT_RUNTIME=0
  "-sEXPORTED_FUNCTIONS=['_netshape_call','_netshape_stdout','_netshape_stderr','_malloc','_free']"
  "-sEXPORTED_RUNTIME_METHODS=['lengthBytesUTF8','stringToUTF8','UTF8ToString']")
set_target_properties(netshape_web PROPERTIES OUTPUT_NAME netshape_core SUFFIX ".js")
# Debian's emscripten runs its JS optimizer with node at link time, which finds
# Debian's node-acorn only through NODE_PATH: set for the link here, so that
# the plain `cmake --build build-web` works.
set_target_properties(netshape_web PROPERTIES
  CXX_LINKER_LAUNCHER "${CMAKE_COMMAND};-E;env;NODE_PATH=/usr/share/nodejs")

# The page: docs/playground's HTML, CSS and script, the WASM module and every
# shipped spec, in one file.
file(GLOB web_specs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/specs/*.json ${PROJECT_SOURCE_DIR}/specs/broken/*.json)
list(FILTER web_specs EXCLUDE REGEX "schema\\.json$")
set(page_sources ${PROJECT_SOURCE_DIR}/docs/playground/index.html ${PROJECT_SOURCE_DIR}/docs/playground/app.js
                 ${PROJECT_SOURCE_DIR}/docs/playground/style.css ${PROJECT_SOURCE_DIR}/docs/playground/assemble.cmake)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/netshape.html
  COMMAND ${CMAKE_COMMAND} -DSOURCE=${PROJECT_SOURCE_DIR} -DCORE=$<TARGET_FILE:netshape_web>
          -DOUT=${CMAKE_BINARY_DIR}/netshape.html -P ${PROJECT_SOURCE_DIR}/docs/playground/assemble.cmake
  DEPENDS netshape_web ${page_sources} ${web_specs}
  COMMENT "Assembling build-web/netshape.html")
add_custom_target(netshape_page ALL DEPENDS ${CMAKE_BINARY_DIR}/netshape.html)
