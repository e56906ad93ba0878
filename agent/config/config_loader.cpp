// Loading a configuration: the file (size limit, never blocking on a FIFO), the YAML stream
// checks (one document, node count, tags) and parsing; the keys are config_schema.cpp's.
#include "agent/config/config_loader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>

#include "agent/config/config_schema.h"
#include "agent/config/quote.h"
#include "agent/core/input_file.h"

namespace aksnode {

std::string ConfigLoadResult::errorText() const {
  std::string text;
  for (const ConfigError& error : errors) {
    if (!text.empty()) text += '\n';
    text += error.toString();
  }
  return text;
}

namespace {

// Counts documents without building them.
// Thrown from the event handler to stop the streaming pass at the first problem.
struct StreamProblem {
  std::string message;
};

class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t, const std::string&) override {
    node(mark, tag);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark, tag);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(mark, tag);
  }
  void OnMapEnd() override {}

  std::vector<YAML::Mark> starts;

 private:
  static std::string where(const YAML::Mark& mark) {
    return "at line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
  }
  void node(const YAML::Mark& mark, const std::string& tag = {}) {
    if (++nodes_ > kMaxConfigYamlNodes) {
      throw StreamProblem{"the configuration has more than " + std::to_string(kMaxConfigYamlNodes) +
                          " YAML nodes (" + where(mark) + "); it cannot be a configuration of this agent"};
    }
    // "?" and "!" are the non-specific tags of plain and quoted scalars; the core schema's own
    // tags (!!str, !!int, ...) are harmless. Anything else (!foo, !!python/object) is a type the
    // loader does not know: refused, not silently read as a string.
    static constexpr std::string_view kCore = "tag:yaml.org,2002:";
    if (tag.empty() || tag == "?" || tag == "!") return;
    if (tag.compare(0, kCore.size(), kCore) == 0) {
      const std::string_view type = std::string_view(tag).substr(kCore.size());
      if (type == "str" || type == "int" || type == "float" || type == "bool" || type == "null" || type == "map" ||
          type == "seq") {
        return;
      }
    }
    throw StreamProblem{"unknown YAML tag \"" + tag.substr(0, 64) + "\" " + where(mark)};
  }
  std::size_t nodes_ = 0;
};

// nullopt when text holds at most one YAML document, else why not.
//
// Never YAML::LoadAll: yaml-cpp 0.7 loops forever, allocating, on text its parser cannot consume
// (a stream starting with ",": jbeder/yaml-cpp#1040, fixed upstream by #1319 after 0.8).
// Each HandleNextDocument call below is bounded; a parser stuck on a token reports a second
// "document" starting at the same place, which is how it is told apart from a real one.
std::optional<std::string> checkSingleDocument(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  try {
    for (int i = 0; i < 3 && parser.HandleNextDocument(counter); ++i) {
    }
  } catch (const StreamProblem& problem) {
    return problem.message;
  }
  for (std::size_t i = 1; i < counter.starts.size(); ++i) {
    if (counter.starts[i].pos == counter.starts[i - 1].pos) {
      const YAML::Mark& mark = counter.starts[i];
      return "invalid YAML at line " + std::to_string(mark.line + 1) + ", column " +
             std::to_string(mark.column + 1) + ": unexpected text";
    }
  }
  if (counter.starts.size() > 1) return std::string("expected one YAML document, found more (---)");
  return std::nullopt;
}

}  // namespace

ConfigLoadResult loadConfigString(std::string_view text, const EnvLookup& env) {
  ConfigLoadResult result;
  if (text.size() > kMaxConfigBytes) {
    result.errors.push_back({"", "the configuration is larger than 1 MiB (" + std::to_string(text.size()) + " bytes)"});
    return result;
  }
  config_reader::Loader loader(env, result.errors);
  try {
    const std::string owned(text);
    if (auto problem = checkSingleDocument(owned)) {
      loader.error("", std::move(*problem));
      return result;
    }
    config_reader::readConfig(loader, YAML::Load(owned), result.config);
  } catch (const YAML::DeepRecursion& e) {
    loader.error("", "invalid YAML: nested deeper than " + std::to_string(e.depth() - 1) + " levels");
  } catch (const YAML::Exception& e) {
    std::string where;
    if (!e.mark.is_null()) {
      where = " at line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1);
    }
    loader.error("", "invalid YAML" + where + ": " + e.msg);
  } catch (const std::exception& e) {
    loader.error("", std::string("invalid YAML: ") + e.what());
  }
  return result;
}

ConfigLoadResult loadConfigFile(const std::string& path, const EnvLookup& env) {
  ConfigLoadResult result;
  auto fail = [&](const std::string& why) {
    result.errors.push_back({"", "cannot read config file " + quoteForMessage(path, 256) + ": " + why});
    return result;
  };
  // Never open(2) a FIFO or device without O_NONBLOCK: `--config FIFO` waited forever.
  InputFile file = readInputFile(path, kMaxConfigBytes);
  if (file.status == InputFile::Status::TooLarge) return fail("larger than 1 MiB");
  if (!file.ok()) return fail(file.error);
  const std::string& text = file.text;
  return loadConfigString(text, env);
}

}  // namespace aksnode
