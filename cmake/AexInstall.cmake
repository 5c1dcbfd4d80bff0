# `cmake --install`: the binaries, the module SDK `aex build` needs (headers,
# the runtime and platform archives, the attestation manager's source and
# the headers it includes), man pages and shell completions.
#
#   <prefix>/bin/                 aex aex-node aex-platform aex-gen aex-device
#   <prefix>/include/aex/         module.h and the public headers
#   <prefix>/lib/aex/             libaex_runtime.a, libaex_platform_<backend>.a, ...
#   <prefix>/share/aex/src/       manager/manager_module.cc and src/ headers
#   <prefix>/share/aex/sdk/rust/  the Rust SDK crate Rust modules build against
#   <prefix>/share/aex/sdk.txt    marks the layout: an installed aex builds from it
#   <prefix>/share/man/man1/      aex.1 aex-node.1 aex-platform.1 aex-gen.1
#   <prefix>/share/bash-completion/completions/aex, zsh/site-functions/_aex,
#   fish/vendor_completions.d/aex.fish
#
# The layout under lib/ and share/ is fixed (not GNUInstallDirs): the
# installed aex finds it relative to its own path (builder.cc, Sdk::Default).

install(TARGETS aex aex-node aex-platform aex-gen aex-device RUNTIME DESTINATION bin)

set(AEX_SDK_ARCHIVES aex_runtime aex_channel aex_wire aex_platform_common aex_crypto aex_common
    aex_attest aex_manager)
foreach(backend native sgx trustzone sancus)
  if(TARGET aex_platform_${backend})
    list(APPEND AEX_SDK_ARCHIVES aex_platform_${backend})
  endif()
endforeach()
install(TARGETS ${AEX_SDK_ARCHIVES} ARCHIVE DESTINATION lib/aex)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION include)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/ DESTINATION share/aex/src
        FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/src/manager/manager_module.cc
        DESTINATION share/aex/src/manager)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sdk/rust/ DESTINATION share/aex/sdk/rust)
file(WRITE ${CMAKE_BINARY_DIR}/aex-sdk.txt
     "aex ${PROJECT_VERSION} module SDK (${CMAKE_BUILD_TYPE}); see docs/environment.md\n")
install(FILES ${CMAKE_BINARY_DIR}/aex-sdk.txt DESTINATION share/aex RENAME sdk.txt)

install(FILES ${AEX_MAN_PAGES} DESTINATION share/man/man1)
install(FILES ${AEX_COMPLETION_DIR}/aex DESTINATION share/bash-completion/completions)
install(FILES ${AEX_COMPLETION_DIR}/_aex DESTINATION share/zsh/site-functions)
install(FILES ${AEX_COMPLETION_DIR}/aex.fish DESTINATION share/fish/vendor_completions.d)

# `cpack` (from the build directory) makes a .deb of the same files under
# /usr. Its dependencies: the shared libraries the binaries link (found by
# dpkg-shlibdeps), and what `aex build` needs to compile and statically
# link modules (a C/C++ compiler, libc6-dev through it, and the static
# libcrypto of libssl-dev).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME aex)
set(CPACK_PACKAGE_CONTACT "aex developers <aex@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "build, deploy, attest and connect distributed enclave applications (simulated TEEs)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "g++ (>= 4:12), libssl-dev (>= 3)")
# Rust modules (docs/modules.md) are built with Debian's toolchain and crates.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cargo, rustc, librust-lazy-static-dev")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
include(CPack)
