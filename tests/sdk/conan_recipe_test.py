#!/usr/bin/env python3
"""Conan cannot run here, so the recipe is executed against stand-ins for the conan
modules: every method runs, and what it declares is compared with the CMake build
(the install layout in CMakeLists.txt / sdk/CMakeLists.txt, the folders the build needs)."""
import ast, fnmatch, os, re, sys, types

root = sys.argv[1]
recipe = os.path.join(root, "conan", "conanfile.py")
ast.parse(open(recipe).read(), recipe)  # valid Python first

calls = []


class Recorder:
    def __init__(self, name):
        self.name = name
    def __getattr__(self, attr):
        return lambda *a, **k: calls.append((self.name, attr, a, k))
    def __call__(self, *a, **k):
        calls.append((self.name, "__init__", a, k))
        return self


class Info:
    def __init__(self):
        self.props, self.builddirs, self.libs, self.bindirs = {}, [], [], []
    def set_property(self, k, v):
        self.props[k] = v


class Env:
    def __init__(self):
        self.paths = {}
    def append_path(self, k, v):
        self.paths.setdefault(k, []).append(v)


class ConanFile:
    def __init__(self):
        self.recipe_folder = os.path.join(root, "conan")
        self.export_sources_folder = "/export"
        self.source_folder, self.package_folder = root, "/pkg"
        self.requires = lambda ref, **k: calls.append(("requires", ref, k))
        self.tool_requires = lambda ref: calls.append(("tool_requires", ref))
        self.cpp_info, self.runenv_info = Info(), Env()


def copy(conanfile, pattern, src, dst, **k):
    calls.append(("copy", pattern, os.path.normpath(src), dst))


class Toolchain(Recorder):
    def __init__(self, *a, **k):
        super().__init__("CMakeToolchain")
        self.cache_variables, self.variables = {}, {}
        calls.append(("toolchain", self))


mods = {"conan": types.ModuleType("conan"), "conan.tools": types.ModuleType("conan.tools"),
        "conan.tools.cmake": types.ModuleType("conan.tools.cmake"),
        "conan.tools.files": types.ModuleType("conan.tools.files")}
mods["conan"].ConanFile = ConanFile
mods["conan.tools.cmake"].CMake = lambda *a: Recorder("CMake")
mods["conan.tools.cmake"].CMakeDeps = lambda *a: Recorder("CMakeDeps")
mods["conan.tools.cmake"].CMakeToolchain = Toolchain
mods["conan.tools.cmake"].cmake_layout = lambda *a: calls.append(("cmake_layout",))
mods["conan.tools.files"].copy = copy
sys.modules.update(mods)

spec = {}
exec(compile(open(recipe).read(), recipe, "exec"), spec)
cls = next(v for v in spec.values() if isinstance(v, type) and issubclass(v, ConanFile) and v is not ConanFile)
r = cls()
for method in ("export_sources", "requirements", "build_requirements", "layout", "generate", "build", "package",
               "package_info"):
    getattr(r, method)()

errors = []
cmake_top = open(os.path.join(root, "CMakeLists.txt")).read()
cmake_sdk = open(os.path.join(root, "sdk", "CMakeLists.txt")).read()

# Requirements: the libraries the build finds with find_package.
refs = {c[1].split("/")[0]: c for c in calls if c[0] == "requires"}
for pkg, cmake_name in (("libtorch", "Torch"), ("boost", "Boost"), ("tomlplusplus", "tomlplusplus"),
                        ("nlohmann_json", "nlohmann_json"), ("zlib", "ZLIB")):
    if f"find_package({cmake_name}" not in cmake_top:
        errors.append(f"CMakeLists.txt no longer finds {cmake_name}: drop {pkg} from the recipe?")
    if pkg not in refs:
        errors.append(f"the recipe does not require {pkg} (CMakeLists.txt finds {cmake_name})")
if "libtorch" in refs and not refs["libtorch"][2].get("transitive_headers"):
    errors.append("libtorch must be transitive: the SDK headers include ATen")

# Sources: every folder the top-level CMakeLists.txt adds (tests/benchmarks are off).
copied = [c[1] for c in calls if c[0] == "copy" and c[3] == "/export"]
for sub in re.findall(r"^add_subdirectory\((\w+)\)", cmake_top, re.M):
    if not any(fnmatch.fnmatch(f"{sub}/CMakeLists.txt", p) for p in copied):
        errors.append(f"export_sources does not copy {sub}/, which CMakeLists.txt adds")
for c in calls:
    if c[0] == "copy" and c[3] == "/export" and c[2] != os.path.normpath(root):
        errors.append(f"export_sources copies from {c[2]}, not the checkout root")
tc = next(c[1] for c in calls if c[0] == "toolchain")
if tc.cache_variables.get("MQB_BUILD_TESTS") is not False or "option(MQB_BUILD_TESTS" not in cmake_top:
    errors.append("the toolchain must turn MQB_BUILD_TESTS (an option of CMakeLists.txt) off: tests/ is not exported")

# Package layout = the CMake install layout.
cmake_dir = re.search(r"set\(MQB_CMAKE_DIR \$\{CMAKE_INSTALL_LIBDIR\}/(\S+)\)", cmake_sdk).group(1)
if os.path.join("lib", cmake_dir) not in r.cpp_info.builddirs:
    errors.append(f"builddirs {r.cpp_info.builddirs} miss lib/{cmake_dir}, where MQBenchSDKConfig.cmake is installed")
plugin_dir = re.search(r'set\(MQB_INSTALL_PLUGIN_DIR "\$\{CMAKE_INSTALL_LIBDIR\}/(\S+)"\)', cmake_top).group(1)
if r.runenv_info.paths.get("MQB_PLUGIN_PATH") != [os.path.join("/pkg", "lib", plugin_dir)]:
    errors.append(f"MQB_PLUGIN_PATH {r.runenv_info.paths.get('MQB_PLUGIN_PATH')} is not <package>/lib/{plugin_dir}")
if r.cpp_info.libs != ["mqb_core"] or "add_library(mqb_core SHARED" not in open(os.path.join(root, "core", "CMakeLists.txt")).read():
    errors.append("cpp_info.libs must be the installed shared library mqb_core")
if r.cpp_info.props.get("cmake_find_mode") != "none":
    errors.append("cmake_find_mode must be 'none': the install ships its own MQBenchSDKConfig.cmake")
if not any(c[:2] == ("CMake", "install") for c in calls):
    errors.append("package() must run the CMake install")

if errors:
    sys.exit("\n".join(errors))
print(f"recipe consistent with the CMake build: {len(refs)} requirements, {len(copied)} source patterns, "
      f"config in lib/{cmake_dir}, plugins in lib/{plugin_dir}")
