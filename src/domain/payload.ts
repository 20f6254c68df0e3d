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

/**
 * The body receiverPayload describes, as JSON text, built from `dataJson` — the data's own
 * JSON.stringify, which publishing makes anyway to check the size — by appending the added
 * fields to it, rather than copying the data and serialising it a second time (one of the
 * larger costs of publishing). The bytes are JSON.stringify(receiverPayload(…).payload)'s: a
 * copy keeps the data's key order and appends the new keys last. Data with its own toJSON
 * (only possible in-process) is serialised from the copy, as that is what it would give.
 */
export function receiverBody(
  workspace: { name: string; uri: string | null },
  data: Record<string, unknown>,
  dataJson: string = JSON.stringify(data),
): { body: string; addedFields: string[] } {
  if (typeof data.toJSON === 'function') {
    const { payload, addedFields } = receiverPayload(workspace, data);
    return { body: JSON.stringify(payload), addedFields };
  }
  const addedFields: string[] = [];
  let tail = '';
  if (!Object.hasOwn(data, 'business_name')) {
    tail += `,"business_name":${JSON.stringify(workspace.name)}`;
    addedFields.push('business_name');
  }
  if (!Object.hasOwn(data, 'business_uri')) {
    tail += `,"business_uri":${JSON.stringify(workspace.uri)}`;
    addedFields.push('business_uri');
  }
  if (tail === '') return { body: dataJson, addedFields };
  // "{}" takes the new keys without the leading comma.
  const body = dataJson.length === 2 ? `{${tail.slice(1)}}` : `${dataJson.slice(0, -1)}${tail}}`;
  return { body, addedFields };
}
