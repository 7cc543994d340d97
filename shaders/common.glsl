// Shared by every kernel. The executor may split one node's dispatch over the batch so that each
// binding stays within maxStorageBufferRange; it fills this header for every such chunk.
//   baseN             element offset of binding N's data inside the bound range (the range is bound
//                     at an offset aligned down to minStorageBufferOffsetAlignment)
//   batches           batch items in this chunk
//   groups            workgroups that do work; the grid may hold a few more, which return at once
//   groups_per_batch  workgroups one batch item needs
#define VKATTN_PUSH_HEADER \
  uint base0; uint base1; uint base2; uint base3; uint base4; uint base5; uint base6; \
  uint batches; uint groups; uint groups_per_batch;

// The grid is 3-D only to stay within maxComputeWorkGroupCount; kernels see one linear index.
uint linear_group_id() {
  return gl_WorkGroupID.x + gl_NumWorkGroups.x * (gl_WorkGroupID.y + gl_NumWorkGroups.y * gl_WorkGroupID.z);
}
