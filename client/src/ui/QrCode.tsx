/**
 * A QR code of a text (the join link), drawn as SVG from uqr's module matrix: one path of unit
 * squares, black on white with the quiet zone, scaled by CSS. Named for assistive technology by
 * `label`; the encoded text never reaches the markup except through that label.
 */
import { useMemo } from "preact/hooks";
import { encode } from "uqr";

export function QrCode(props: { value: string; label: string; class?: string }) {
  const { size, path } = useMemo(() => {
    // Medium error correction: a projected code stays readable with glare or a partial view.
    const qr = encode(props.value, { ecc: "M", border: 2 });
    let d = "";
    qr.data.forEach((row, y) => {
      row.forEach((dark, x) => {
        if (dark) d += `M${x} ${y}h1v1h-1z`;
      });
    });
    return { size: qr.size, path: d };
  }, [props.value]);
  return (
    <svg
      class={props.class ?? "qr"}
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={props.label}
      shape-rendering="crispEdges"
      xmlns="http://www.w3.org/2000/svg"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
