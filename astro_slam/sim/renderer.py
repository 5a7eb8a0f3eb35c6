"""Off-screen rendering of a home with moderngl on headless EGL (Mesa llvmpipe on the CPU).

One instanced draw of unit cubes gives, per pixel, scene radiance (linear, before the camera's
exposure) and exact metric depth along the optical axis. Light: a ceiling light per room,
daylight through the windows, global dimming, and an optional infrared illuminator on the
robot. The camera model (camera_model.py) turns radiance into a noisy 8-bit image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from astro_slam.sim.home import Box, Home

MAX_ROOMS = 8
TEXTURE_SIZE = 512

_VERTEX = """
#version 330
in vec3 in_pos; in vec3 in_normal; in vec2 in_uv;
in vec4 m0; in vec4 m1; in vec4 m2; in vec4 m3; in vec2 in_layer_emissive;
uniform mat4 view; uniform mat4 proj;
out vec3 world; out vec3 normal; out vec2 uv; flat out float layer; flat out float emissive;
void main() {
    mat4 model = mat4(m0, m1, m2, m3);
    vec4 w = model * vec4(in_pos, 1.0);
    world = w.xyz;
    normal = normalize(mat3(model) * in_normal);
    uv = in_uv; layer = in_layer_emissive.x; emissive = in_layer_emissive.y;
    gl_Position = proj * view * w;
}
"""

_FRAGMENT = """
#version 330
in vec3 world; in vec3 normal; in vec2 uv; flat in float layer; flat in float emissive;
uniform sampler2DArray textures;
uniform mat4 view;
uniform int n_rooms;
uniform vec4 room_rect[8];
uniform vec3 room_light[8];      // xyz of each room's ceiling light
uniform float light_power[8];    // 0 when switched off
uniform float room_ambient[8];   // daylight through that room's windows, and bounce
uniform float sky;               // brightness of window panes
uniform float ir_power;          // robot-mounted infrared illuminator
uniform float base_light;        // light that reaches everywhere (0 in total darkness)
uniform vec3 cam_pos; uniform vec3 cam_dir;
layout(location = 0) out vec4 radiance;
layout(location = 1) out float depth;

float hash(vec3 p) {
    p = fract(p * 0.3183099 + vec3(0.1, 0.2, 0.3));
    p *= 17.0;
    return fract(p.x * p.y * p.z * (p.x + p.y + p.z));
}
float noise(vec3 x) {
    vec3 i = floor(x); vec3 f = fract(x); f = f * f * (3.0 - 2.0 * f);
    return mix(mix(mix(hash(i), hash(i + vec3(1,0,0)), f.x),
                   mix(hash(i + vec3(0,1,0)), hash(i + vec3(1,1,0)), f.x), f.y),
               mix(mix(hash(i + vec3(0,0,1)), hash(i + vec3(1,0,1)), f.x),
                   mix(hash(i + vec3(0,1,1)), hash(i + vec3(1,1,1)), f.x), f.y), f.z);
}
void main() {
    vec3 albedo = texture(textures, vec3(uv, layer)).rgb;
    // Fine surface detail tied to the world, so close-up views still have texture.
    float detail = 0.88 + 0.16 * noise(world * 60.0) + 0.08 * noise(world * 180.0);
    albedo *= detail;
    vec3 n = normalize(normal);
    int room = -1;
    for (int i = 0; i < n_rooms; ++i) {
        vec4 r = room_rect[i];
        if (world.x >= r.x - 0.03 && world.x <= r.z + 0.03 && world.y >= r.y - 0.03
            && world.y <= r.w + 0.03) { room = i; break; }
    }
    float light = base_light;
    if (room >= 0) {
        light += room_ambient[room];
        vec3 to_light = room_light[room] - world;
        float d2 = dot(to_light, to_light);
        float lambert = max(dot(n, normalize(to_light)), 0.0);
        light += light_power[room] * (0.25 + lambert) / (1.0 + 0.15 * d2);
    }
    vec3 to_cam = cam_pos - world;
    float dc = length(to_cam);
    float cone = smoothstep(0.70, 0.90, dot(-to_cam / dc, cam_dir));  // about the view cone
    light += ir_power * cone * max(dot(n, to_cam / dc), 0.0) / max(dc * dc, 0.05);
    radiance = vec4(albedo * light + emissive * sky * vec3(0.9, 0.95, 1.0), 1.0);
    depth = -(view * vec4(world, 1.0)).z;
}
"""


def _unit_cube() -> np.ndarray:
    """36 vertices (pos 3, normal 3, uv 2) of a cube of side 1 centred at the origin."""
    faces = []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            u, v = np.eye(3)[(axis + 1) % 3], np.eye(3)[(axis + 2) % 3]
            corners = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)]
            verts = [n * 0.5 + a * u + b * v for a, b in corners]
            uvs = [(a + 0.5, b + 0.5) for a, b in corners]
            order = (0, 1, 2, 0, 2, 3) if sign > 0 else (0, 2, 1, 0, 3, 2)
            faces += [(*verts[i], *n, *uvs[i]) for i in order]
    return np.array(faces, dtype='f4')


@dataclass
class Lighting:
    """Light at one moment; arrays are per room (home.rooms order)."""

    light_power: np.ndarray  # ceiling light power, 0 off
    ambient: np.ndarray  # daylight through windows, per room
    sky: float = 1.0  # window brightness
    ir_power: float = 0.0
    dimming: float = 1.0  # multiplies every light source


@dataclass(frozen=True)
class Intrinsics:
    width: int = 640
    height: int = 480
    fx: float = 460.0
    fy: float = 460.0
    cx: float = 319.5
    cy: float = 239.5
    near_m: float = 0.05
    far_m: float = 30.0

    @property
    def K(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1.0]])


def _projection(k: Intrinsics) -> np.ndarray:
    """OpenGL projection matching pinhole intrinsics (pixel centres at integer coordinates)."""
    w, h, n, f = k.width, k.height, k.near_m, k.far_m
    return np.array(
        [
            [2 * k.fx / w, 0, 1 - 2 * (k.cx + 0.5) / w, 0],
            [0, 2 * k.fy / h, 2 * (k.cy + 0.5) / h - 1, 0],
            [0, 0, -(f + n) / (f - n), -2 * f * n / (f - n)],
            [0, 0, -1, 0],
        ],
        dtype='f4',
    )


# OpenGL camera looks down -z with y up; the ROS optical frame looks down +z with y down.
_GL_FROM_OPTICAL = np.diag([1.0, -1.0, -1.0, 1.0])


def box_matrix(box: Box) -> np.ndarray:
    c, s = np.cos(box.yaw), np.sin(box.yaw)
    M = np.eye(4)
    M[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.diag(box.size)
    M[:3, 3] = box.center
    return M


@dataclass
class Renderer:
    """Renders radiance and depth of a home for pinhole cameras; see the module docstring."""

    home: Home
    intrinsics: Intrinsics = field(default_factory=Intrinsics)

    def __post_init__(self) -> None:
        import moderngl

        self.ctx = moderngl.create_standalone_context(backend='egl')
        self.ctx.enable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        self.program = self.ctx.program(vertex_shader=_VERTEX, fragment_shader=_FRAGMENT)
        k = self.intrinsics
        size = (k.width, k.height)
        self.color = self.ctx.texture(size, 4, dtype='f4')
        self.depth_out = self.ctx.texture(size, 1, dtype='f4')
        self.fbo = self.ctx.framebuffer(
            [self.color, self.depth_out], self.ctx.depth_renderbuffer(size)
        )
        self.cube = self.ctx.buffer(_unit_cube().tobytes())
        self._inf = np.full((k.height, k.width), np.inf, 'f4').tobytes()
        self._layers: dict[tuple[str, int], int] = {}
        self._pixels: list[np.ndarray] = []
        self._texture_array = None
        self.set_boxes(self.home.boxes)
        self.program['proj'].write(_projection(k).T.copy().tobytes())
        self._set_rooms()

    def _texture_layers(self, boxes: list[Box]) -> None:
        """Adds the textures of `boxes` not loaded yet; existing layers keep their index."""
        from astro_slam.sim.textures import make_texture

        new = sorted({b.texture for b in boxes} - set(self._layers))
        if not new:
            return
        for key in new:
            self._layers[key] = len(self._pixels)
            self._pixels.append(make_texture(key[0], key[1], TEXTURE_SIZE))
        if self._texture_array is not None:
            self._texture_array.release()
        self._texture_array = self.ctx.texture_array(
            (TEXTURE_SIZE, TEXTURE_SIZE, len(self._pixels)), 3, np.stack(self._pixels).tobytes()
        )
        self._texture_array.build_mipmaps()
        # Anisotropic filtering triples the cost on llvmpipe; trilinear mipmaps suffice.
        self._texture_array.anisotropy = 1.0

    def preload(self, boxes: list[Box]) -> None:
        """Loads textures of boxes that appear later (people), avoiding a mid-run upload."""
        self._texture_layers(boxes)

    def set_boxes(self, boxes: list[Box]) -> None:
        """The static scene (structure, furniture, objects) for the coming frames."""
        self._static = self._instances(boxes)

    def _instances(self, boxes: list[Box]) -> np.ndarray:
        self._texture_layers(boxes)
        rows = [
            np.concatenate([box_matrix(b).T.reshape(-1), [self._layers[b.texture], b.emissive]])
            for b in boxes
        ]
        return np.array(rows, dtype='f4').reshape(-1, 18)

    def _set_rooms(self) -> None:
        rooms = self.home.rooms[:MAX_ROOMS]
        rects = np.zeros((MAX_ROOMS, 4), 'f4')
        lights = np.zeros((MAX_ROOMS, 3), 'f4')
        for i, room in enumerate(rooms):
            rects[i] = room.rect
            lights[i] = (*room.light_xy, 2.4)
        self.program['n_rooms'] = len(rooms)
        self.program['room_rect'].write(rects.tobytes())
        self.program['room_light'].write(lights.tobytes())

    def render(
        self,
        T_map_cam: np.ndarray,
        lighting: Lighting,
        dynamic: list[Box] = (),
        want_depth: bool = True,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Radiance (H, W, 3) float32 RGB and depth (H, W) float32 metres (inf where nothing).

        T_map_cam is the pose of the ROS optical frame (z forward, x right, y down). Without
        want_depth, depth is not read back and None is returned for it.
        """
        instances = self._static
        if dynamic:
            instances = np.vstack([instances, self._instances(list(dynamic))])
        buffer = self.ctx.buffer(instances.tobytes())
        vao = self.ctx.vertex_array(
            self.program,
            [
                (self.cube, '3f 3f 2f', 'in_pos', 'in_normal', 'in_uv'),
                (buffer, '4f 4f 4f 4f 2f/i', 'm0', 'm1', 'm2', 'm3', 'in_layer_emissive'),
            ],
        )
        view = _GL_FROM_OPTICAL @ np.linalg.inv(T_map_cam)
        n = MAX_ROOMS
        self.program['view'].write(view.T.astype('f4').tobytes())
        self.program['light_power'].write(_pad(lighting.light_power * lighting.dimming, n))
        self.program['room_ambient'].write(_pad(lighting.ambient * lighting.dimming, n))
        self.program['sky'] = float(lighting.sky * lighting.dimming)
        self.program['ir_power'] = float(lighting.ir_power)
        self.program['base_light'] = 0.02 * float(lighting.dimming)
        self.program['cam_pos'] = tuple(float(v) for v in T_map_cam[:3, 3])
        self.program['cam_dir'] = tuple(float(v) for v in T_map_cam[:3, 2])
        self._texture_array.use(0)
        self.program['textures'] = 0
        self.fbo.use()
        self.fbo.clear(0.0, 0.0, 0.0, 1.0, depth=1.0)
        self.ctx.clear(0.0, 0.0, 0.0, 1.0)
        if want_depth:
            self.depth_out.write(self._inf)
        vao.render(instances=len(instances))
        vao.release()
        buffer.release()
        k = self.intrinsics
        # OpenGL rows run bottom-up; cv2 flips and drops alpha faster than numpy copies.
        rgba = np.frombuffer(self.color.read(), 'f4').reshape(k.height, k.width, 4)
        rgb = cv2.cvtColor(cv2.flip(rgba, 0), cv2.COLOR_RGBA2RGB)
        if not want_depth:
            return rgb, None
        depth = np.frombuffer(self.depth_out.read(), 'f4').reshape(k.height, k.width)
        return rgb, cv2.flip(depth, 0)

    def release(self) -> None:
        self.ctx.release()


def _pad(values: np.ndarray, n: int) -> bytes:
    out = np.zeros(n, 'f4')
    values = np.asarray(values, dtype='f4')[:n]
    out[: len(values)] = values
    return out.tobytes()
