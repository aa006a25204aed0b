/** Multipart uploads the way the course client sends them: field "inputFile", a file name, no part type. */
export async function upload(
  url: string,
  bytes: Uint8Array | undefined,
  fileName = 'test.jpg',
  init: { field?: string; accept?: string } = {},
): Promise<{ status: number; body: string; contentType: string | null }> {
  const form = new FormData();
  if (bytes) form.append(init.field ?? 'inputFile', new Blob([bytes]), fileName);
  else form.append('note', 'no file here');
  const res = await fetch(url, {
    method: 'POST',
    body: form,
    headers: init.accept ? { Accept: init.accept } : {},
  });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') };
}
