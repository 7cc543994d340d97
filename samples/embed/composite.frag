#version 450
// The second pass: the frame with vkattn's attention heatmap over it (the top `split` of the
// target), and the generator's pictures below it as a grid of `columns` x `rows` cells, one
// array layer of the gallery each, grey in [0, 1] in the red channel.
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 colour;
layout(set = 0, binding = 0) uniform sampler2D frame;
layout(set = 0, binding = 1) uniform sampler2D heat;
layout(set = 0, binding = 2) uniform sampler2DArray gallery;
layout(push_constant) uniform Push {
  float split;        // the share of the height the frame takes
  float heat_weight;  // how much of the heatmap's colour the top shows
  uint columns;
  uint rows;
} p;

void main() {
  if (uv.y < p.split) {
    const vec2 t = vec2(uv.x, uv.y / p.split);
    colour = vec4(mix(texture(frame, t).rgb, texture(heat, t).rgb, p.heat_weight), 1.0);
  } else {
    const vec2 g = vec2(uv.x, (uv.y - p.split) / (1.0 - p.split)) * vec2(p.columns, p.rows);
    const vec2 cell = min(floor(g), vec2(p.columns - 1, p.rows - 1));
    const float layer = cell.y * float(p.columns) + cell.x;
    colour = vec4(texture(gallery, vec3(g - cell, layer)).rrr, 1.0);
  }
}
