# platform_attack_test: the platform side of issue 11 (aex-platform, module
# isolation, measurement of what runs), on every backend.
set(_adv_backends native sgx trustzone sancus)
set(_adv_defs "")
set(_adv_modules "")
foreach(b ${_adv_backends})
  string(TOUPPER ${b} B)
  aex_add_module(TARGET aex_adv_probe_${b} NAME probe PLATFORM ${b}
                 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/modules/probe.c)
  # The same module linked dynamically: what a hostile node could preload into.
  aex_add_module(TARGET aex_adv_probe_dyn_${b} NAME probe PLATFORM ${b} DYNAMIC
                 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/modules/probe.c)
  list(APPEND _adv_defs AEX_ADV_PROBE_${B}="$<TARGET_FILE:aex_adv_probe_${b}>"
       AEX_ADV_PROBE_DYN_${B}="$<TARGET_FILE:aex_adv_probe_dyn_${b}>")
  list(APPEND _adv_modules aex_adv_probe_${b} aex_adv_probe_dyn_${b})
endforeach()
add_library(aex_adv_preload SHARED ${CMAKE_CURRENT_SOURCE_DIR}/preload.c)

aex_test(platform_attack_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/platform_attack_test.cc
         LIBS aex_deployer_lib)
target_include_directories(platform_attack_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/platform)
target_compile_definitions(platform_attack_test PRIVATE
  AEX_NODE_BIN="$<TARGET_FILE:aex-node>"
  AEX_PLATFORM_BIN="$<TARGET_FILE:aex-platform>"
  AEX_ADV_PRELOAD="$<TARGET_FILE:aex_adv_preload>"
  ${_adv_defs})
add_dependencies(platform_attack_test aex-node aex-platform aex_adv_preload ${_adv_modules})
