// Drawing decoded video frames as a viewer would see them.

/** An OffscreenCanvas of `width` x `height` (display size) with `frame` drawn upright:
 * the frame is in stored orientation and `rotation` (clockwise degrees) turns it. */
export function drawUpright(frame, rotation, width, height) {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d");
  const quarterTurn = rotation % 180 !== 0;
  const [w, h] = quarterTurn ? [height, width] : [width, height];
  context.imageSmoothingQuality = "high";
  context.translate(width / 2, height / 2);
  context.rotate((rotation * Math.PI) / 180);
  context.drawImage(frame, -w / 2, -h / 2, w, h);
  return canvas;
}

export function rgbaOf(canvas) {
  return canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
}
