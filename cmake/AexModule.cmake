# aex_add_module: builds an aex module executable from annotated C/C++ source.
#
#   aex_add_module(TARGET <target> NAME <module-name> SOURCES <file>...
#                  [PLATFORM native|sgx|trustzone|sancus] [DYNAMIC])
#
# Runs aex-gen over the C/C++ files in SOURCES (headers included; other files
# are compiled but not scanned) to produce
#   ${CMAKE_CURRENT_BINARY_DIR}/<target>_glue.cc        the dispatch glue
#   ${CMAKE_CURRENT_BINARY_DIR}/<target>.manifest.json  the module interface
# and links SOURCES + glue with the trusted runtime (aex_runtime, which
# provides main()) and the platform layer aex_platform_<PLATFORM> (default
# native). C compiles as C11, C++ as C++20. Modules link statically (except in
# sanitizer builds). DYNAMIC links dynamically: such a module is refused by
# the platform service (tests of that refusal only).
#
# Target properties set on <target>:
#   AEX_MANIFEST     absolute path of the manifest (e.g. for the deployer)
#   AEX_MODULE_NAME  <module-name>
#   AEX_PLATFORM     <PLATFORM>
#
# The generator runs again whenever a source or aex-gen itself changes.

include_guard(GLOBAL)

# aex/module.h, resolved once from this file's location so that modules do
# not depend on how the runtime target exports its include directories.
set(_AEX_MODULE_INCLUDE_DIR "${CMAKE_CURRENT_LIST_DIR}/../include")
cmake_path(NORMAL_PATH _AEX_MODULE_INCLUDE_DIR)

set(_AEX_MODULE_PLATFORMS native sgx trustzone sancus)
set(_AEX_MODULE_SCANNED_EXTENSIONS .c .h .cc .cpp .cxx .c++ .hh .hpp .hxx .C .H)

function(aex_add_module)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "DYNAMIC" "TARGET;NAME;PLATFORM" "SOURCES")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "aex_add_module: unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_TARGET)
    message(FATAL_ERROR "aex_add_module: TARGET is required")
  endif()
  if(NOT ARG_NAME)
    message(FATAL_ERROR "aex_add_module(${ARG_TARGET}): NAME is required")
  endif()
  # The same rule as aex-gen's IsValidModuleName, checked early for a clear
  # configure-time error.
  if(NOT ARG_NAME MATCHES "^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
    message(FATAL_ERROR "aex_add_module(${ARG_TARGET}): invalid NAME '${ARG_NAME}' "
                        "(characters from [A-Za-z0-9_.-], not starting with '.' or '-')")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "aex_add_module(${ARG_TARGET}): SOURCES is required")
  endif()
  if(NOT ARG_PLATFORM)
    set(ARG_PLATFORM native)
  endif()
  if(NOT ARG_PLATFORM IN_LIST _AEX_MODULE_PLATFORMS)
    message(FATAL_ERROR "aex_add_module(${ARG_TARGET}): unknown PLATFORM '${ARG_PLATFORM}' "
                        "(one of: ${_AEX_MODULE_PLATFORMS})")
  endif()

  set(sources "")
  set(scanned "")
  foreach(src IN LISTS ARG_SOURCES)
    cmake_path(ABSOLUTE_PATH src BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
               NORMALIZE OUTPUT_VARIABLE abs)
    list(APPEND sources "${abs}")
    cmake_path(GET abs EXTENSION LAST_ONLY ext)
    if(ext IN_LIST _AEX_MODULE_SCANNED_EXTENSIONS)
      list(APPEND scanned "${abs}")
    endif()
  endforeach()
  if(NOT scanned)
    message(FATAL_ERROR "aex_add_module(${ARG_TARGET}): no C/C++ file among SOURCES")
  endif()

  set(glue "${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}_glue.cc")
  set(manifest "${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}.manifest.json")
  add_custom_command(
    OUTPUT "${glue}" "${manifest}"
    COMMAND "$<TARGET_FILE:aex-gen>" --name "${ARG_NAME}" --glue "${glue}"
            --manifest "${manifest}" ${scanned}
    DEPENDS ${scanned} aex-gen
    COMMENT "aex-gen: glue and manifest for module ${ARG_NAME}"
    VERBATIM)

  add_executable(${ARG_TARGET} ${sources} "${glue}")
  target_include_directories(${ARG_TARGET} PRIVATE "${_AEX_MODULE_INCLUDE_DIR}")
  target_link_libraries(${ARG_TARGET} PRIVATE aex_runtime aex_platform_${ARG_PLATFORM})
  # Static: the executable the platform service measures is everything that
  # runs (libcrypto, libstdc++, libc included; docs/tee.md). The service
  # refuses a module with any other executable mapping. Sanitizer runtimes
  # cannot be linked statically; those builds stay dynamic.
  if(NOT AEX_SANITIZE AND NOT ARG_DYNAMIC)
    target_link_options(${ARG_TARGET} PRIVATE -static)
    set_target_properties(${ARG_TARGET} PROPERTIES AEX_STATIC_MODULE ON)
  endif()
  set_target_properties(${ARG_TARGET} PROPERTIES
    C_STANDARD 11
    C_STANDARD_REQUIRED ON
    C_EXTENSIONS OFF
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF
    AEX_MANIFEST "${manifest}"
    AEX_MODULE_NAME "${ARG_NAME}"
    AEX_PLATFORM "${ARG_PLATFORM}")
endfunction()
