import "server-only";
import QRCode from "qrcode";

/** The otpauth:// URI as an SVG QR code: crisp at any size, no image request. */
export function qrCodeSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: "svg", margin: 1, errorCorrectionLevel: "M" });
}
