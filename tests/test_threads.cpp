// Executors on one Context from several threads (executor.h's promise): made, run and destroyed
// at once, each thread's results identical to a lone run. `scripts/test.sh --tsan` runs this under
// ThreadSanitizer.
#include <thread>

#include "gpu.h"

using test::block_graph;

TEST_CASE("executors on one Context run from several threads at once") {
  test::NoValidationMessages quiet;
  const auto weights = test::random_weights(16, 2);
  const std::vector<vkattn::Shape> shapes = {{1, 16, 5, 7}, {2, 16, 3, 3}, {1, 16, 8, 8}, {3, 16, 4, 5}};
  std::vector<vkattn::HostTensor> inputs, alone;
  for (const auto& shape : shapes) {
    inputs.push_back(test::random_tensor(shape));
    vkattn::Executor exec(test::gpu(), block_graph(weights, shape));
    exec.set_input("x", inputs.back());
    exec.run();
    alone.push_back(exec.output("y"));
  }
  std::vector<int> wrong(shapes.size(), 0), errors(shapes.size(), 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < shapes.size(); ++t)
    threads.emplace_back([&, t] {
      try {
        for (int round = 0; round < 3; ++round) {  // a new Executor each round: made and destroyed concurrently
          vkattn::Executor exec(test::gpu(), block_graph(weights, shapes[t]));
          for (int k = 0; k < 4; ++k) {
            exec.set_input("x", inputs[t]);
            exec.run();
            wrong[t] += exec.output("y").data != alone[t].data;
          }
        }
      } catch (const std::exception&) {
        ++errors[t];
      }
    });
  for (auto& thread : threads) thread.join();
  for (size_t t = 0; t < shapes.size(); ++t) {
    CHECK(errors[t] == 0);
    CHECK(wrong[t] == 0);
  }
}
