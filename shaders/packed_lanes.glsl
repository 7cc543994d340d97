// Where an invocation works when a unit of `items` batch items (ops::items_per_unit) has the
// lanes of its items one after another, so that no subgroup idles at the end of a small item, and
// the channel groups of one run of lanes are adjacent in the grid, so that the workgroups reading
// the same input run together. Include after the workgroup size is declared.
// gid: linear_group_id(); lane_groups: workgroups along one channel group's lanes of a unit.
// Out: the batch item (relative to the chunk), the channel group and the lane within its item.
// False past the unit's last item.
bool packed_lane(uint gid, uint groups_per_batch, uint lane_groups, uint lanes_per_item, uint items, out uint batch,
                 out uint group, out uint lane) {
  const uint unit = gid / groups_per_batch, r = gid % groups_per_batch, channel_groups = groups_per_batch / lane_groups;
  group = r % channel_groups;
  const uint packed = (r / channel_groups) * gl_WorkGroupSize.x + gl_LocalInvocationID.x, item = packed / lanes_per_item;
  batch = unit * items + item;
  lane = packed % lanes_per_item;
  return item < items;
}
