// Links the installed vkattn and runs one small graph: relu on four values.
#include <vkattn/vkattn.h>

#include <cstdio>

int main() {
  try {
    vkattn::Context ctx = vkattn::Context::create();
    vkattn::Graph graph;
    graph.output("y", vkattn::ops::relu(graph, graph.input("x", {1, 4})));
    vkattn::Executor exec(ctx, graph);
    exec.set_input("x", {{1, 4}, {-1.f, 2.f, -3.f, 4.f}});
    exec.run();
    const auto y = exec.output("y");
    const bool ok = y.data == std::vector<float>{0.f, 2.f, 0.f, 4.f};
    std::printf("consumer: relu on %s: %s\n", ctx.device().name.c_str(), ok ? "correct" : "WRONG");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
