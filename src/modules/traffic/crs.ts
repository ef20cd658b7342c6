// Coordinates [ours: the paper works in its city's metres and does not say how]: lon/lat input is
// projected with proj4 to a local azimuthal equidistant projection (aeqd, WGS 84 ellipsoid) centred
// on the data's bounding-box centre. Why aeqd: distances from the centre are exact geodesic
// distances (proj4 computes them with Vincenty's formulae), and the scale error elsewhere grows only
// as ρ²/(6R²) with the distance ρ from the centre (1e-5 at 50 km, 4e-3 at 1000 km), in every
// direction and at any latitude, with no zone edges (UTM's zone of the centroid has a 4e-4 scale
// error at its central meridian and grows with the distance from the meridian rather than from the data).
// Projected input (`--crs EPSG:xxxx` or a proj string) is first taken back to lon/lat with the same
// library, so every run measures in the same local metres and writes lon/lat GeoJSON.
import proj4 from 'proj4';
import { UsageError } from '../../core/errors.ts';

export type Origin = { lon0: number; lat0: number };

/** The proj string of the local metres about an origin. */
export function localProjection(o: Origin): string {
  return `+proj=aeqd +lat_0=${o.lat0} +lon_0=${o.lon0} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs`;
}

const cache = new Map<string, proj4.Converter>();

function converter(from: string, to: string): proj4.Converter {
  const key = `${from}|${to}`;
  let c = cache.get(key);
  if (!c) { c = proj4(from, to); if (cache.size > 64) cache.clear(); cache.set(key, c); }
  return c;
}

/** lon/lat (degrees) → local metres about `o`. */
export function toLocal(o: Origin): (lon: number, lat: number) => [number, number] {
  const c = converter('WGS84', localProjection(o));
  return (lon, lat) => c.forward([lon, lat]) as [number, number];
}

/** local metres about `o` → lon/lat (degrees). */
export function fromLocal(o: Origin): (x: number, y: number) => [number, number] {
  const c = converter('WGS84', localProjection(o));
  return (x, y) => c.inverse([x, y]) as [number, number];
}

/**
 * A CRS's x/y → lon/lat (WGS 84). `crs`: an EPSG code proj4 knows offline (EPSG:4326, 4269, 3857 and
 * the WGS 84 UTM zones 326xx/327xx) or a proj string (+proj=…); anything else is a usage error.
 */
export function crsToLonLat(crs: string): (x: number, y: number) => [number, number] {
  const s = crs.trim();
  let c: proj4.Converter;
  try {
    if (!s.startsWith('+') && !proj4.defs(s.toUpperCase())) throw new Error('unknown');
    c = converter(s.startsWith('+') ? s : s.toUpperCase(), 'WGS84');
    c.forward([0, 0]);
  } catch {
    throw new UsageError(`--crs: unknown or unusable CRS '${crs}' (give EPSG:4326, EPSG:3857, a WGS 84 UTM zone EPSG:326xx/327xx, or a proj string such as '+proj=tmerc +lat_0=39.668 +lon_0=-8.133 +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m')`);
  }
  return (x, y) => c.forward([x, y]) as [number, number];
}
