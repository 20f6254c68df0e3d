// The body of a delivery, as a value: the rule that fan-out applies and the dashboard shows.
/**
 * What a receiver gets for `data`: the data plus the workspace's business_name and
 * business_uri where the data lacks them (the data itself is not copied when it has both).
 * Imports nothing: the dashboard bundles it for its "sample event" preview, so that the
 * preview and the fan-out cannot disagree.
 */
export function receiverPayload(
  workspace: { name: string; uri: string | null },
  data: Record<string, unknown>,
): { payload: Record<string, unknown>; addedFields: string[] } {
  const addedFields: string[] = [];
  let payload = data;
  if (!Object.hasOwn(data, 'business_name') || !Object.hasOwn(data, 'business_uri')) {
    payload = { ...data };
    if (!Object.hasOwn(data, 'business_name')) {
      payload.business_name = workspace.name;
      addedFields.push('business_name');
    }
    if (!Object.hasOwn(data, 'business_uri')) {
      payload.business_uri = workspace.uri;
      addedFields.push('business_uri');
    }
  }
  return { payload, addedFields };
}
