"""Conan 2 recipe: packages the MQBench-CPP SDK (headers, libmqb_core, the CMake
package) and the built-in plugins and `mqbench` program, exactly as `cmake --install` lays
them out. Build with: conan create conan/ --build=missing
"""
from conan import ConanFile
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy


class MQBenchSDKConan(ConanFile):
    name = "mqbench-sdk"
    version = "0.1.0"
    license = "Apache-2.0"
    description = "Plugin-based model quantization (MQBench in C++): SDK, core, plugins"
    settings = "os", "arch", "compiler", "build_type"
    options = {"with_tests": [True, False]}
    default_options = {"with_tests": False}
    # The sources live one level up from this recipe.
    exports_sources = ("../CMakeLists.txt", "../cmake/*", "../core/*", "../sdk/*", "../plugins/*",
                       "../apps/*", "../configs/*")

    def requirements(self):
        # Plugins exchange at::Tensor with the host, so LibTorch's version is part of the ABI.
        self.requires("libtorch/1.13.1")
        self.requires("boost/1.74.0")          # Boost.DLL (headers) and Program_options
        self.requires("tomlplusplus/3.3.0")
        self.requires("nlohmann_json/3.11.2")

    def build_requirements(self):
        self.tool_requires("cmake/[>=3.20]")
        self.tool_requires("ninja/[>=1.10]")

    def layout(self):
        cmake_layout(self)

    def generate(self):
        CMakeDeps(self).generate()
        tc = CMakeToolchain(self, generator="Ninja")
        tc.variables["MQB_BUILD_TESTS"] = self.options.with_tests
        tc.variables["MQB_BUILD_BENCHMARKS"] = False
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        CMake(self).install()
        copy(self, "README.md", src=self.source_folder, dst=self.package_folder)

    def package_info(self):
        # Consumers use the CMake package the install ships (find_package(MQBenchSDK)).
        self.cpp_info.set_property("cmake_find_mode", "none")
        self.cpp_info.builddirs.append("lib/cmake/MQBenchSDK")
        self.cpp_info.libs = ["mqb_core"]
        self.runenv_info.append_path("MQB_PLUGIN_PATH", "lib/mqbench/plugins")
