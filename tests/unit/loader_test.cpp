// The plugin loader against real shared libraries: a good one and one for every
// reason a load is refused (fixtures built by tests/unit/CMakeLists.txt).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <ATen/ops/ones.h>
#include <cstdlib>

#include "mqb/host/registry.h"
#include "mqb/plugin.h"

using namespace mqb;
namespace fs = std::filesystem;

namespace {

fs::path fixture_dir(const std::string& name) { return fs::path(MQB_FIXTURE_ROOT) / name; }

SearchPath path_of(std::initializer_list<const char*> dirs) {
  SearchPath p;
  for (const char* d : dirs) p.add(fixture_dir(d), "test");
  return p;
}

std::string load_error(Registry& r, PluginKind kind, const std::string& name) {
  try {
    if (kind == PluginKind::Quantizer)
      r.create_quantizer(name, QScheme{}, Params(), "FixtureObserver", Params());
    else
      r.create_observer(name, ObserverArgs{});
  } catch (const PluginError& e) {
    return e.what();
  }
  return "(loaded)";
}

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

int fixture_constructions() {
  void* h = dlopen((fixture_dir("good") / "libmqb_observer_fixtureobserver.so").c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!h) return -1;  // not loaded at all
  auto fn = reinterpret_cast<int (*)()>(dlsym(h, "mqb_fixture_constructions"));
  int n = fn ? fn() : -2;
  dlclose(h);
  return n;
}

}  // namespace

TEST(NameRule, KindAndLowercaseName) {
  EXPECT_EQ(plugin_file_name(PluginKind::Observer, "MSEObserver"), "libmqb_observer_mseobserver.so");
  EXPECT_EQ(plugin_file_name(PluginKind::Backend, "Tengine_u8"), "libmqb_backend_tengine_u8.so");
  auto parsed = parse_plugin_file_name("libmqb_quantizer_learnablefakequantize.so");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->first, PluginKind::Quantizer);
  EXPECT_EQ(parsed->second, "learnablefakequantize");
  EXPECT_FALSE(parse_plugin_file_name("libmqb_core.so"));
  EXPECT_FALSE(parse_plugin_file_name("libmqb_gadget_x.so"));
  EXPECT_FALSE(parse_plugin_file_name("libtorch.so"));
}

TEST(Loader, ListingReadsDescriptorsWithoutCreatingObjects) {
  Registry r(path_of({"good"}));
  PluginListing l = r.list();
  ASSERT_EQ(l.plugins.size(), 1u);
  EXPECT_TRUE(l.refused.empty());
  EXPECT_EQ(l.plugins[0].name, "FixtureObserver");
  EXPECT_EQ(l.plugins[0].kind, PluginKind::Observer);
  EXPECT_EQ(l.plugins[0].description, "loader test fixture");
  EXPECT_EQ(l.plugins[0].torch_version, "1.13.0");
  EXPECT_TRUE(contains(l.plugins[0].file, "libmqb_observer_fixtureobserver.so"));
  EXPECT_EQ(fixture_constructions(), 0);

  auto obs = r.create_observer("FixtureObserver", ObserverArgs{});
  EXPECT_EQ(fixture_constructions(), 1);
  obs->observe(at::ones({3}));
  EXPECT_EQ(obs->calculate_qparams().scale.item<float>(), 1.0f);  // nothing recorded: torch's (1.0, 0)
}

TEST(Loader, PluginParametersAreCheckedByThePlugin) {
  Registry r(path_of({"good"}));
  ObserverArgs args;
  args.params = Params("extra_qconfig.w_observer_extra_args");
  args.params.set("scale_hnit", 2.0, {"c.toml", 4, 3});
  try {
    r.create_observer("FixtureObserver", args);
    FAIL() << "accepted an unknown parameter";
  } catch (const ConfigError& e) {  // thrown inside the plugin, caught by type in the host
    EXPECT_TRUE(contains(e.what(), "c.toml:4:3: extra_qconfig.w_observer_extra_args.scale_hnit: unknown parameter "
                                   "for FixtureObserver; accepted: scale_hint"))
        << e.what();
  }
}

TEST(Loader, NotASharedLibrary) {
  Registry r(path_of({"notalib"}));
  const std::string e = load_error(r, PluginKind::Observer, "NotALib");
  EXPECT_TRUE(contains(e, (fixture_dir("notalib") / "libmqb_observer_notalib.so").string() +
                              ": not a loadable shared library:"))
      << e;
  EXPECT_TRUE(contains(e, "invalid ELF header") || contains(e, "file too short")) << e;
  PluginListing l = r.list();
  EXPECT_TRUE(l.plugins.empty());
  ASSERT_EQ(l.refused.size(), 1u);
}

TEST(Loader, NoEntrySymbol) {
  Registry r(path_of({"noentry"}));
  const std::string e = load_error(r, PluginKind::Observer, "NoEntry");
  EXPECT_TRUE(contains(e, "libmqb_observer_noentry.so: no entry symbol 'mqb_plugin_v1'")) << e;
}

TEST(Loader, WrongAbiVersionIsRefusedFirst) {
  Registry r(path_of({"wrongabi"}));
  const std::string e = load_error(r, PluginKind::Observer, "WrongAbi");
  EXPECT_TRUE(contains(e, "libmqb_observer_wrongabi.so: refused: wrong plugin ABI version: expected " +
                          std::to_string(MQB_PLUGIN_ABI_VERSION) + ", found 99")) << e;
}

TEST(Loader, WrongLibTorchVersion) {
  Registry r(path_of({"wrongtorch"}));
  const std::string e = load_error(r, PluginKind::Observer, "WrongTorch");
  EXPECT_TRUE(contains(e, "refused: built against LibTorch 1.12.1, this host uses 1.13.0")) << e;
}

TEST(Loader, WrongCxxAbi) {
  Registry r(path_of({"wrongcxxabi"}));
  const std::string e = load_error(r, PluginKind::Observer, "WrongCxxAbi");
  EXPECT_TRUE(contains(e, "refused: built with _GLIBCXX_USE_CXX11_ABI=0, this host uses 1")) << e;
}

TEST(Loader, WrongKind) {
  Registry r(path_of({"wrongkind", "good"}));
  const std::string e = load_error(r, PluginKind::Quantizer, "WrongKind");
  EXPECT_TRUE(contains(e, "libmqb_quantizer_wrongkind.so: refused: wrong kind: expected quantizer, found observer"))
      << e;
  PluginListing l = r.list(PluginKind::Quantizer);
  ASSERT_EQ(l.refused.size(), 1u);
  EXPECT_TRUE(contains(l.refused[0].second, "wrong kind")) << l.refused[0].second;
}

TEST(Loader, DeclaredNameMustMatchTheFileName) {
  Registry r(path_of({"misnamed"}));
  const std::string e = load_error(r, PluginKind::Observer, "Misnamed");
  EXPECT_TRUE(contains(e, "refused: wrong name: expected 'Misnamed', found 'SomethingElse'")) << e;
  PluginListing l = r.list();
  ASSERT_EQ(l.refused.size(), 1u);
  EXPECT_TRUE(contains(l.refused[0].second, "declares name 'SomethingElse' but the file name says 'misnamed'"));
}

TEST(Loader, TwoPluginsWithOneName) {
  Registry r(path_of({"dupa", "dupb"}));
  const std::string e = load_error(r, PluginKind::Observer, "Dup");
  EXPECT_TRUE(contains(e, "two plugins with one name: observer 'Dup' is provided by")) << e;
  EXPECT_TRUE(contains(e, (fixture_dir("dupa") / "libmqb_observer_dup.so").string())) << e;
  EXPECT_TRUE(contains(e, (fixture_dir("dupb") / "libmqb_observer_dup.so").string())) << e;
  PluginListing l = r.list();
  EXPECT_EQ(l.plugins.size(), 1u);
  ASSERT_EQ(l.refused.size(), 1u);
  EXPECT_TRUE(contains(l.refused[0].second, "two plugins with one name")) << l.refused[0].second;
}

TEST(Loader, UnknownNameSuggestsAndListsEveryPathSearched) {
  Registry r(path_of({"good", "wrongabi"}));
  const std::string e = load_error(r, PluginKind::Observer, "FixtureObsrver");
  EXPECT_TRUE(contains(e, "unknown observer 'FixtureObsrver'; did you mean 'FixtureObserver'?")) << e;
  EXPECT_TRUE(contains(e, (fixture_dir("good") / "libmqb_observer_fixtureobsrver.so").string() + " (test)")) << e;
  EXPECT_TRUE(contains(e, (fixture_dir("wrongabi") / "libmqb_observer_fixtureobsrver.so").string())) << e;
  EXPECT_TRUE(contains(e, "observers found: FixtureObserver")) << e;
  Registry empty{SearchPath()};
  EXPECT_TRUE(contains(load_error(empty, PluginKind::Observer, "X"), "(the search path is empty)"));
}

const mqb_plugin_descriptor* mqb_static_plugin_StaticFixture() noexcept;

TEST(Loader, StaticallyLinkedPluginsNeedNoFile) {
  Registry r{SearchPath()};
  r.add_static(mqb_static_plugin_StaticFixture());
  PluginListing l = r.list(PluginKind::Observer);
  ASSERT_EQ(l.plugins.size(), 1u);
  EXPECT_EQ(l.plugins[0].name, "StaticFixture");
  EXPECT_EQ(l.plugins[0].file, "(static)");
  auto obs = r.create_observer("StaticFixture", ObserverArgs{});
  obs->observe(at::ones({2}));
  EXPECT_EQ(r.info(PluginKind::Observer, "StaticFixture").file, "(static)");
}

TEST(SearchOrder, ConfigDirsThenEnvironmentThenInstallDir) {
  setenv("MQB_PLUGIN_PATH", "/env/one:/env/two", 1);
  SearchPath p = SearchPath::standard({"/cfg/dir"});
  unsetenv("MQB_PLUGIN_PATH");
  ASSERT_GE(p.entries().size(), 4u);
  EXPECT_EQ(p.entries()[0].dir, "/cfg/dir");
  EXPECT_EQ(p.entries()[0].origin, "config plugin_dirs");
  EXPECT_EQ(p.entries()[1].dir, "/env/one");
  EXPECT_EQ(p.entries()[2].dir, "/env/two");
  EXPECT_EQ(p.entries()[1].origin, "MQB_PLUGIN_PATH");
  EXPECT_EQ(p.entries()[3].origin, "install dir");
}

TEST(Loader, ThisBuildShipsEveryBackendAndTheReferencePlugins) {
  Registry r(SearchPath::standard());
  PluginListing l = r.list();
  EXPECT_TRUE(l.refused.empty()) << l.refused.front().first << ": " << l.refused.front().second;
  std::set<std::string> backends;
  for (const auto& p : l.plugins)
    if (p.kind == PluginKind::Backend) backends.insert(p.name);
  const std::set<std::string> expected = {"Academic", "Tensorrt", "SNPE", "PPLW8A16", "NNIE",
                                          "Vitis", "ONNX_QNN", "PPLCUDA", "OPENVINO", "Tengine_u8",
                                          "Tensorrt_NLP", "Academic_NLP", "STPU", "QDQ"};
  EXPECT_EQ(backends, expected);
  EXPECT_NO_THROW(r.info(PluginKind::Observer, "MinMaxObserver"));
  EXPECT_NO_THROW(r.info(PluginKind::Quantizer, "FixedFakeQuantize"));
}
