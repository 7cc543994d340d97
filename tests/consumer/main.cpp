// Links the installed vkattn and runs one small graph: flatten of a (1, 2, 2) tensor.
#include <vkattn/vkattn.h>

#include <cstdio>

int main() {
  try {
    vkattn::Context ctx = vkattn::Context::create();
    vkattn::Graph graph;
    graph.output("y", vkattn::ops::flatten(graph, graph.input("x", {1, 2, 2})));
    vkattn::Executor exec(ctx, graph);
    exec.set_input("x", {{1, 2, 2}, {-1.f, 2.f, -3.f, 4.f}});
    exec.run();
    const auto y = exec.output("y");
    // A copy: the values come back exactly.
    const bool ok = y.shape == vkattn::Shape{1, 4} && y.data == std::vector<float>{-1.f, 2.f, -3.f, 4.f};
    std::printf("consumer: flatten on %s: %s\n", ctx.device().name.c_str(), ok ? "correct" : "WRONG");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
