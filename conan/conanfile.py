"""Conan 2 recipe: packages the MQBench-CPP SDK (headers, libmqb_core, the CMake
package), the built-in plugins and the `mqbench` program exactly as `cmake --install`
lays them out. Build with: conan create conan/ --build=missing

Consumers use the CMake package the install ships: find_package(MQBenchSDK) gives
mqb::sdk and mqb_add_plugin(); the run environment puts the built-in plugins on
MQB_PLUGIN_PATH. tests/sdk/conan_recipe_test.py checks this file against the CMake
install rules (Conan itself cannot run on the project's machine).
"""
import os

from conan import ConanFile
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy

# What the top-level CMakeLists.txt needs without tests and benchmarks.
SOURCES = ("CMakeLists.txt", "README.md", "cmake/*", "sdk/*", "core/*", "plugins/*", "apps/*", "configs/*")


class MQBenchSDKConan(ConanFile):
    name = "mqbench-sdk"
    version = "0.1.0"
    license = "Apache-2.0"
    description = "Plugin-based model quantization (MQBench in C++): SDK, core, plugins"
    settings = "os", "arch", "compiler", "build_type"
    package_type = "shared-library"

    def export_sources(self):
        # The recipe lives in conan/; the sources are one level up.
        root = os.path.join(self.recipe_folder, "..")
        for pattern in SOURCES:
            copy(self, pattern, src=root, dst=self.export_sources_folder)

    def requirements(self):
        # Plugins exchange at::Tensor with the host, so LibTorch's version is part of the
        # ABI (the loader refuses plugins built against another one); headers are public.
        self.requires("libtorch/1.13.1", transitive_headers=True, transitive_libs=True)
        self.requires("boost/1.74.0", transitive_headers=True)  # Boost.DLL (headers), Program_options
        self.requires("tomlplusplus/3.3.0")                      # config parsing, inside libmqb_core
        self.requires("nlohmann_json/3.11.2")                    # the CLI's --json
        self.requires("zlib/1.2.13")                             # reading Fashion-MNIST's .gz files

    def build_requirements(self):
        self.tool_requires("cmake/[>=3.20]")
        self.tool_requires("ninja/[>=1.10]")

    def layout(self):
        cmake_layout(self)

    def generate(self):
        CMakeDeps(self).generate()
        tc = CMakeToolchain(self, generator="Ninja")
        tc.cache_variables["MQB_BUILD_TESTS"] = False
        tc.cache_variables["MQB_BUILD_BENCHMARKS"] = False
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        CMake(self).install()
        copy(self, "README.md", src=self.source_folder, dst=self.package_folder)

    def package_info(self):
        # No Conan-generated config: the install's own MQBenchSDKConfig.cmake is found
        # through builddirs, so find_package(MQBenchSDK) behaves as with cmake --install.
        self.cpp_info.set_property("cmake_find_mode", "none")
        self.cpp_info.builddirs.append(os.path.join("lib", "cmake", "MQBenchSDK"))
        self.cpp_info.libs = ["mqb_core"]
        self.cpp_info.bindirs = ["bin"]  # mqbench
        self.runenv_info.append_path("MQB_PLUGIN_PATH", os.path.join(self.package_folder, "lib", "mqbench", "plugins"))
