// The processes of a build without MPI: this one alone (processes.hpp).
#include "../cli/processes.hpp"

#include <cstdlib>

#include "rnnscope/core/error.hpp"

namespace rnnscope::cli {

Processes::Processes(int&, char**&) {}
Processes::~Processes() = default;
int Processes::rank() { return 0; }
int Processes::size() { return 1; }
Collective* Processes::collective() { return nullptr; }
bool Processes::started() { return false; }
void Processes::abort(int code) { std::exit(code); }
std::string Processes::mpi_version() { return "MPI: not built in"; }
void Processes::agree(const std::function<void()>& first) { first(); }
std::string Processes::broadcast(const std::string& text) { return text; }

std::vector<LearnabilityRow> lead_learnability(const LearnabilitySpec&, const std::vector<LearnabilityRun>&,
                                               const LearnabilityHooks&) {
  throw std::logic_error("lead_learnability: rnnscope is built without MPI");
}
void serve_learnability(const LearnabilitySpec&) {
  throw std::logic_error("serve_learnability: rnnscope is built without MPI");
}

}  // namespace rnnscope::cli
