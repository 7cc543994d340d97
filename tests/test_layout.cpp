// reshape, permute, slice, cat, sum, mean and amax: each against its reference on a few shapes,
// their refusals, a format-2 network of all of them, and cat's inputs all alive until cat runs.
#include "gpu.h"
#include "plan.h"

namespace ops = vkattn::ops;
using vkattn::Shape;

TEST_CASE("layout ops and reductions match their references") {
  test::check_op("reshape", {{{"x", {3, 5, 7}}, {"shape", {35}}}, {{"x", {1, 6, 4}}, {"shape", {2, -1, 2}}}});
  test::check_op("permute", {{{"x", {3, 5, 7, 2}}, {"dims", {0, 3, 1, 2}}}, {{"x", {1, 6, 5, 3}}, {"shuffle", 3}}});
  test::check_op("as_strided", {{{"x", {2, 8, 12, 5}}, {"shape", {2, 3, 4, 4, 5}}, {"strides", {240, 20, 60, 5, 1}}},
                                {{"x", {3, 7, 18}}, {"shape", {2, 7, 3}}, {"strides", {3, 18, 1}}, {"offset", 6}}});
  test::check_op("expand", {{{"x", {3, 5}}, {"c", {1, 1, 8}}}});
  test::check_op("roll", {{{"x", {2, 8, 12, 5}}, {"shifts", {-3, 2}}, {"dims", {1, 2}}}, {{"x", {3, 7}}, {"shifts", {-9}}, {"dims", {1}}}});
  test::check_op("slice", {{{"x", {3, 9, 7}}, {"dim", 2}, {"start", -4}, {"step", 2}},
                           {{"x", {2, 13}}, {"dim", 1}, {"start", 2}, {"end", 11}, {"step", 3}}});
  test::check_op("cat", {{{"x", {3, 5, 7}}, {"dim", 1}, {"k", 2}}, {{"x", {1, 2, 3, 5}}, {"dim", -1}, {"k", 30}}});
  for (const char* op : {"sum", "mean", "amax"})
    test::check_op(op, {{{"x", {3, 5, 7, 13}}, {"dims", {2, 3}}, {"keepdim", true}},
                        {{"x", {2, 3, 1000}}, {"dims", {-1}}},
                        {{"x", {1, 2, 224, 224}}, {"dims", {2, 3}}, {"lo", 0.5}}});
}

TEST_CASE("layout ops give PyTorch's shapes and refuse what PyTorch refuses, or moving the batch") {
  vkattn::Graph g;
  const auto x = g.input("x", {2, 3, 4, 5});
  CHECK(g.shape(ops::reshape(g, x, {-1, 5})) == Shape{2, 12, 5});
  CHECK(g.shape(ops::permute(g, x, {0, -1, 1, 2})) == Shape{2, 5, 3, 4});
  CHECK(g.shape(ops::slice(g, x, 3, -100, 100, 2)) == Shape{2, 3, 4, 3});
  CHECK(g.shape(ops::slice(g, x, -2, 1)) == Shape{2, 3, 3, 5});
  CHECK(g.shape(ops::cat(g, {x, ops::slice(g, x, 1, 1)}, 1)) == Shape{2, 5, 4, 5});
  CHECK(g.shape(ops::mean(g, x, {2, 3})) == Shape{2, 3});
  CHECK(g.shape(ops::sum(g, x, {1, -1}, true)) == Shape{2, 1, 4, 1});
  CHECK(g.shape(ops::amax(g, x, {1, 2, 3})) == Shape{2});

  CHECK_THROWS_WITH(ops::reshape(g, x, {7, -1}), doctest::Contains("does not fit the 60 elements"));
  CHECK_THROWS_WITH(ops::reshape(g, x, {-1, -1}), doctest::Contains("more than one -1"));
  CHECK_THROWS_WITH(ops::permute(g, x, {1, 0, 2, 3}), doctest::Contains("move the batch"));
  CHECK_THROWS_WITH(ops::permute(g, x, {0, 1, 1, 2}), doctest::Contains("twice"));
  CHECK_THROWS_WITH(ops::permute(g, x, {0, 1, 2}), doctest::Contains("each of the input's 4 dimensions"));
  CHECK(g.shape(ops::as_strided(g, x, {5, 12}, {1, 5})) == Shape{2, 5, 12});
  CHECK_THROWS_WITH(ops::as_strided(g, x, {5, 12}, {1, 5}, 1), doctest::Contains("read outside the 60 elements"));
  CHECK_THROWS_WITH(ops::as_strided(g, x, {5, 12}, {1}), doctest::Contains("as many strides"));
  CHECK(g.shape(ops::as_strided(g, x, {5, 12}, {1, 5}, 0, {4, 15})) == Shape{2, 4, 15});
  CHECK_THROWS_WITH(ops::as_strided(g, x, {5, 12}, {1, 5}, 0, {4, 16}), doctest::Contains("does not hold the 60"));
  CHECK(g.shape(ops::roll(g, x, {1, -7}, {1, -1})) == Shape{2, 3, 4, 5});
  CHECK_THROWS_WITH(ops::roll(g, x, {1}, {0}), doctest::Contains("batch"));
  CHECK(g.shape(ops::expand(g, x, g.weight("c", test::random_tensor({1, 1, 7})))) == Shape{2, 1, 7});
  CHECK_THROWS_WITH(ops::expand(g, x, g.weight("c2", test::random_tensor({2, 7}))), doctest::Contains("(1, ...)"));
  CHECK_THROWS_WITH(ops::roll(g, x, {1, 2}, {1}), doctest::Contains("a shift for each"));
  CHECK_THROWS_WITH(ops::slice(g, x, 0, 1), doctest::Contains("batch"));
  CHECK_THROWS_WITH(ops::slice(g, x, 2, 3, 2), doctest::Contains("is empty"));
  CHECK_THROWS_WITH(ops::slice(g, x, 2, 0, 4, 0), doctest::Contains("step must be at least 1"));
  CHECK_THROWS_WITH(ops::slice(g, x, 4), doctest::Contains("out of range"));
  CHECK_THROWS_WITH(ops::cat(g, {x, g.input("y", {2, 3, 5, 5})}, 1), doctest::Contains("every dimension but 1"));
  CHECK_THROWS_WITH(ops::cat(g, {x, x}, 0), doctest::Contains("batch"));
  CHECK_THROWS_WITH(ops::cat(g, std::vector<vkattn::TensorId>(257, x), 1), doctest::Contains("1 to 256"));
  CHECK_THROWS_WITH(ops::mean(g, x, {0}), doctest::Contains("batch"));
  CHECK_THROWS_WITH(ops::sum(g, x, {1, -3}), doctest::Contains("twice"));
  CHECK_THROWS_WITH(ops::amax(g, x, {}), doctest::Contains("at least one"));
}

TEST_CASE("cat's inputs all stay alive, in their own memory, until cat has read them") {
  vkattn::Graph g;
  const auto x = g.input("x", {2, 3, 5});
  std::vector<vkattn::TensorId> parts;
  for (int t = 0; t < 30; ++t) parts.push_back(ops::relu(g, ops::slice(g, x, 2, t % 5, t % 5 + 1)));
  g.output("y", ops::cat(g, parts, -1));
  const auto plan = vkattn::make_plan(g, test::gpu().device());
  std::set<uint32_t> slots;
  for (const auto t : parts) {
    REQUIRE(plan.home[t].kind == vkattn::Home::Shared);
    slots.insert(plan.home[t].slot);
  }
  CHECK(slots.size() == parts.size());
  const auto in = test::random_tensor({2, 3, 5});
  const auto y = test::run_graph(g, {{"x", in}}, "y");
  REQUIRE(y.shape == Shape{2, 3, 30});
  for (int64_t i = 0; i < 2 * 3 * 30; ++i) CHECK(y.data[i] == std::max(0.f, in.data[i / 30 * 5 + i % 30 % 5]));
}

TEST_CASE("a copy larger than one binding goes in blocks that each fit") {
  vkattn::DeviceInfo device = test::gpu().device();
  device.max_storage_buffer_range = 1 << 20;  // 262144 floats
  vkattn::Graph g;
  const auto x = g.input("x", {2, 3, 200000});
  g.output("y", ops::slice(g, x, 2, 1, 199999, 2));  // 300000 floats of each item read from 600000
  const auto plan = vkattn::make_plan(g, device);
  REQUIRE(plan.steps.size() == 3);  // the three rows, one per binding: two of them do not fit one
  for (const auto& step : plan.steps)
    for (const auto& o : step.dispatch.operands) CHECK(o.extent * sizeof(float) <= device.max_storage_buffer_range);
  CHECK(plan.steps[1].dispatch.operands[0].offset == 200001);
  CHECK(plan.steps[1].dispatch.operands[1].offset == 99999);
}

namespace {

vkattn::SafeTensors network(const std::string& nodes, const std::string& outputs = R"("m")") {
  return test::network_file(test::graph_json({12, 5, 7}, nodes, outputs));
}
std::string refusal(const std::string& node) { return test::load_error(network(node)); }

}  // namespace

TEST_CASE("a format-2 network of layout ops and reductions runs, and bad keys are refused") {
  test::NoValidationMessages quiet;
  // A channel shuffle, a strided slice of it, the two joined and reduced three ways.
  const auto net = vkattn::Network::from_safetensors(network(R"(
    {"type": "reshape", "inputs": ["x"], "output": "a", "shape": [3, 4, 5, 7]},
    {"type": "permute", "inputs": ["a"], "output": "b", "dims": [0, 2, 1, 3, 4]},
    {"type": "reshape", "inputs": ["b"], "output": "s", "shape": [12, -1, 7]},
    {"type": "slice", "inputs": ["s"], "output": "c", "dim": -1, "start": -6, "step": 2},
    {"type": "slice", "inputs": ["s"], "output": "d", "dim": 3, "end": 3},
    {"type": "cat", "inputs": ["c", "d", "c"], "output": "e", "dim": 3},
    {"type": "mean", "inputs": ["e"], "output": "f", "dims": [2, 3], "keepdim": true},
    {"type": "sum", "inputs": ["e"], "output": "g", "dims": 1},
    {"type": "amax", "inputs": ["g"], "output": "h", "dims": [-1, -2]})",
                                                            R"("f", "h")"));
  vkattn::Graph g;
  const auto out = net.build(g, g.input("x", {3, 12, 5, 7}));
  REQUIRE(out.outputs.size() == 2);
  g.output("f", out.outputs[0].second);
  g.output("h", out.outputs[1].second);

  vkattn::Graph direct;
  const auto x = direct.input("x", {3, 12, 5, 7});
  const auto s = ops::reshape(direct, ops::permute(direct, ops::reshape(direct, x, {3, 4, 5, 7}), {0, 2, 1, 3, 4}),
                              {12, 5, 7});
  const auto c = ops::slice(direct, s, 3, -6, INT64_MAX, 2), d = ops::slice(direct, s, 3, 0, 3);
  const auto e = ops::cat(direct, {c, d, c}, 3);
  const auto f = ops::mean(direct, e, {2, 3}, true), h = ops::amax(direct, ops::sum(direct, e, {1}), {-1, -2});
  direct.output("f", f);
  direct.output("h", h);
  CHECK(direct.shape(f) == Shape{3, 12, 1, 1});
  CHECK(direct.shape(h) == Shape{3});
  const auto input = test::random_tensor({3, 12, 5, 7});
  for (const char* name : {"f", "h"})
    CHECK(test::run_graph(g, {{"x", input}}, name).data == test::run_graph(direct, {{"x", input}}, name).data);

  const std::string x_in = R"("inputs": ["x"], "output": "m", )";
  CHECK(refusal(R"({"type": "permute", )" + x_in + R"("dims": [1, 0, 2, 3]})").find("node 1 (permute): permute:") !=
        std::string::npos);
  CHECK(refusal(R"({"type": "permute", )" + x_in + R"("dims": [1, 0, 2, 3]})").find("move the batch") !=
        std::string::npos);
  CHECK(refusal(R"({"type": "slice", )" + x_in + R"("dim": 1, "step": 0})").find("step must be at least 1") !=
        std::string::npos);
  CHECK(refusal(R"({"type": "slice", )" + x_in + R"("start": 1})").find("needs a \"dim\"") != std::string::npos);
  CHECK(refusal(R"({"type": "cat", )" + x_in + R"("dim": 1.5})").find("\"dim\" must be a whole number") !=
        std::string::npos);
  CHECK(refusal(R"({"type": "reshape", )" + x_in + R"("shape": [5, 5]})").find("does not fit the 420 elements") !=
        std::string::npos);
  CHECK(refusal(R"({"type": "mean", )" + x_in + R"("dims": ["h"]})").find("must be a whole number") !=
        std::string::npos);
  CHECK(refusal(R"({"type": "sum", )" + x_in + R"("dims": [0]})").find("batch") != std::string::npos);
  CHECK(refusal(R"({"type": "amax", )" + x_in + R"("dims": [1], "keepdim": 1})").find("true or false") !=
        std::string::npos);
}
