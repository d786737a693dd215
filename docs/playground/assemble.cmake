cmake_minimum_required(VERSION 3.18)  # new policies: @VAR@ is not a variable reference here
# Assembles the playground into one file (cmake/web.cmake runs it):
# index.html with its @STYLE@, @CORE@, @APP@ and @SPECS@ replaced by
# style.css, the WASM module's JS, app.js and every shipped spec.
# cmake -DSOURCE=<repo> -DCORE=<netshape_core.js> -DOUT=<netshape.html> -P assemble.cmake
set(dir ${SOURCE}/docs/playground)
file(READ ${dir}/index.html page)
file(READ ${dir}/style.css style)
file(READ ${dir}/app.js app)
file(READ ${CORE} core)
foreach(part core app)
  string(FIND "${${part}}" "</script" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "${part} contains </script, which would end its <script> early")
  endif()
endforeach()
# Each spec as a <script type="application/json">: the browser does not run
# it, and "</" cannot occur in JSON outside a string, where "<\/" means the same.
file(GLOB specs ${SOURCE}/specs/*.json ${SOURCE}/specs/broken/*.json)
list(SORT specs)
set(blocks "")
foreach(spec ${specs})
  file(RELATIVE_PATH name ${SOURCE} ${spec})
  if(name STREQUAL "specs/schema.json")
    continue()
  endif()
  file(READ ${spec} text)
  string(REPLACE "</" "<\\/" text "${text}")
  string(APPEND blocks "<script type=\"application/json\" class=\"spec\" data-file=\"${name}\">${text}</script>\n")
endforeach()
# string(REPLACE) and not configure_file: the sources hold @ and ${} of their own.
string(REPLACE "@STYLE@" "${style}" page "${page}")
string(REPLACE "@SPECS@" "${blocks}" page "${page}")
string(REPLACE "@CORE@" "${core}" page "${page}")
string(REPLACE "@APP@" "${app}" page "${page}")
file(WRITE ${OUT} "${page}")
