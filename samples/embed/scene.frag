#version 450
// A procedural scene: a lit garment on a black studio background, drawn from signed distances.
// scene 0 is a handbag, scene 1 a pair of trousers; `time` moves the light.
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 colour;
layout(push_constant) uniform Push {
  uint scene;
  float time;
} p;

float box(vec2 q, vec2 centre, vec2 half_size, float radius) {
  const vec2 d = abs(q - centre) - half_size + radius;
  return length(max(d, 0.0)) + min(max(d.x, d.y), 0.0) - radius;
}

// A quadrilateral leg between a top edge (x0..x1 at y0) and a bottom edge (x2..x3 at y1).
float leg(vec2 q, float x0, float x1, float x2, float x3, float y0, float y1) {
  if (q.y < y0 || q.y > y1) return 1.0;
  const float t = (q.y - y0) / (y1 - y0);
  const float left = mix(x0, x2, t), right = mix(x1, x3, t);
  return max(left - q.x, q.x - right);
}

void main() {
  float d;
  vec3 base;
  if (p.scene == 0u) {
    const float body = box(uv, vec2(0.5, 0.63), vec2(0.40, 0.29), 0.05);
    const float handle = abs(length(uv - vec2(0.5, 0.36)) - 0.2) - 0.035;
    d = min(body, uv.y < 0.36 ? handle : 1.0);
    base = vec3(0.85, 0.78, 0.68);
  } else {
    const float waist = box(uv, vec2(0.5, 0.07), vec2(0.19, 0.035), 0.005);
    const float left_leg = leg(uv, 0.31, 0.5, 0.28, 0.46, 0.07, 0.97);
    const float right_leg = leg(uv, 0.5, 0.69, 0.54, 0.72, 0.07, 0.97);
    d = min(waist, min(left_leg, right_leg));
    base = vec3(0.55, 0.62, 0.8);
  }
  const vec2 light = vec2(0.5 + 0.3 * sin(p.time), 0.2);
  const float shade = 0.75 + 0.25 * (1.0 - length(uv - light));
  const float inside = 1.0 - smoothstep(-0.004, 0.004, d);
  colour = vec4(base * shade * inside, 1.0);
}
