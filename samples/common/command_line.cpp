#include "command_line.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "vkattn/version.h"

namespace {

// CLI11 checks required options before unknown ones, so "run --colour red" would complain about
// --model; the unknown option is the mistake to name. Required options are therefore checked
// after the parse, by us, in the command that was given.
struct RequiredLater {
  std::vector<std::pair<CLI::App*, CLI::Option*>> options;
  explicit RequiredLater(CLI::App& app) {
    std::vector<CLI::App*> apps = app.get_subcommands([](const CLI::App*) { return true; });
    apps.push_back(&app);
    for (CLI::App* a : apps)
      for (CLI::Option* opt : a->get_options())
        if (opt->get_required()) options.emplace_back(a, opt->required(false));
  }
  void restore() {
    for (auto& [a, opt] : options) opt->required(true);
  }
  void check() const {
    for (const auto& [a, opt] : options)
      if (a->parsed() && opt->count() == 0) throw CLI::RequiredError(opt->get_name());
  }
};

}  // namespace

int parse_command_line(CLI::App& app, int argc, char** argv) {
  RequiredLater required(app);
  try {
    const auto commands = app.get_subcommands([](const CLI::App*) { return true; });
    const auto is_command = [&](const std::string& word) {
      for (const CLI::App* c : commands)
        if (c->check_name(word)) return true;
      return false;
    };
    if (!commands.empty() && argc > 1 && argv[1][0] != '-' && !is_command(argv[1]))
      throw CLI::ParseError("Unknown command '" + std::string(argv[1]) + "'", CLI::ExitCodes::ExtrasError);
    app.parse(argc, argv);
    required.check();
    return -1;
  } catch (const CLI::Success& e) {  // --help, --help-all, --version
    required.restore();              // so that help marks them REQUIRED
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // The help hint names the command that was being parsed, if there is one.
    std::string where = app.get_name();
    std::vector<std::string> extras = app.remaining();
    for (const CLI::App* sub : app.get_subcommands()) {
      where += " " + sub->get_name();
      for (const std::string& word : sub->remaining()) extras.push_back(word);
    }
    std::string what = e.what();
    if (dynamic_cast<const CLI::ExtrasError*>(&e) && !extras.empty()) {  // CLI11 lists them backwards
      what = "Unexpected argument '" + extras.front() + "'";
      for (const std::string& word : extras)
        if (word.rfind("-", 0) == 0) {
          what = "Unknown option '" + word.substr(0, word.find('=')) + "'";
          break;
        }
    }
    while (!what.empty() && (what.back() == '.' || what.back() == '\n')) what.pop_back();
    for (char& c : what) c = c == '\n' ? ' ' : c;
    std::fprintf(stderr, "%s: %s; run '%s --help'.\n", app.get_name().c_str(), what.c_str(), where.c_str());
    return 2;
  }
}

CLI::Validator whole_number(uint64_t lo, uint64_t hi) {
  const std::string range = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        errno = 0;
        const uint64_t v = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
        if (!digits || errno == ERANGE || v < lo || v > hi) return "must be " + range + ", but it is '" + text + "'";
        return "";
      },
      range);
}

CLI::Validator real_number(double lo, double hi) {
  const std::string range = "a number from " + CLI::detail::to_string(lo) + " to " + CLI::detail::to_string(hi);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
        if (text.empty() || *end || errno == ERANGE || !std::isfinite(v) || v < lo || v > hi)
          return "must be " + range + ", but it is '" + text + "'";
        return "";
      },
      range);
}

std::string version_line(const std::string& tool) {
  std::string line = tool + " " + VKATTN_VERSION_STRING;
  if (vkattn::version() != std::string(VKATTN_VERSION_STRING)) line += std::string(" (library ") + vkattn::version() + ")";
  return line;
}

CLI::Option* add_precision_option(CLI::App* command, vkattn::Precision& precision, const std::string& details) {
  return command
      ->add_option_function<std::string>(
          "--precision", [&precision](const std::string& name) { precision = vkattn::parse_precision(name); },
          "fp32 (default), or fp16: weights and tensors between kernels stored in 16 bits" + details)
      ->check(CLI::IsMember({vkattn::to_string(vkattn::Precision::fp32), vkattn::to_string(vkattn::Precision::fp16)}));
}
