"""Regenerates fixtures/hikvision and fixtures/dahua (run from the repository root).

The payloads follow the vendors' published event formats (Hikvision ISAPI
EventNotificationAlert with ANPR, Dahua traffic event JSON); the JPEGs are drawn with
Pillow. Kept so the samples can be rebuilt or extended, not run by the tests.
"""

import base64
import io
import json
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont


def plate(text, bg=(240, 200, 30)):
    img = Image.new("RGB", (200, 56), bg)
    d = ImageDraw.Draw(img)
    d.rectangle([1, 1, 198, 54], outline=(0, 0, 0), width=2)
    try:
        f = ImageFont.truetype("DejaVuSans-Bold.ttf", 30)
    except OSError:
        f = ImageFont.load_default()
    d.text((14, 10), text, fill=(0, 0, 0), font=f)
    d.text((150, 44), "SINDH", fill=(0, 0, 0))
    return img


def scene(text):
    img = Image.new("RGB", (640, 360), (70, 74, 80))
    d = ImageDraw.Draw(img)
    d.rectangle([180, 120, 460, 330], fill=(200, 200, 205))  # a car
    img.paste(plate(text).resize((120, 34)), (260, 270))
    d.text((8, 8), "KHI-SOU-002 2026-11-20 09:41:07 frame 118234", fill=(255, 255, 255))
    return img


def jpeg(img, q=80):
    b = io.BytesIO()
    img.save(b, "JPEG", quality=q)
    return b.getvalue()


# --- Hikvision
xml = """<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<ipAddress>10.21.4.17</ipAddress>
<ipv6Address>::ffff:10.21.4.17</ipv6Address>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<macAddress>bc:ba:c2:4e:9a:11</macAddress>
<channelID>1</channelID>
<dateTime>2026-11-20T09:41:07+05:00</dateTime>
<activePostCount>1</activePostCount>
<eventType>ANPR</eventType>
<eventState>active</eventState>
<eventDescription>ANPR</eventDescription>
<channelName>Shahrah-e-Faisal FTC</channelName>
<ANPR>
<country>0</country>
<licensePlate>BKM1234</licensePlate>
<line>2</line>
<direction>forward</direction>
<confidenceLevel>91</confidenceLevel>
<plateType>unknown</plateType>
<plateColor>yellow</plateColor>
<licenseBright>0</licenseBright>
<dangmark>no</dangmark>
<twoWheelVehicle>no</twoWheelVehicle>
<threeWheelVehicle>no</threeWheelVehicle>
<plateCharBelieve>90,93,95,91,94,96,92</plateCharBelieve>
<vehicleType>vehicle</vehicleType>
<detectDir>8</detectDir>
<detectType>0</detectType>
<alarmDataType>0</alarmDataType>
<vehicleInfo>
<index>118234</index>
<colorDepth>2</colorDepth>
<color>white</color>
<length>0</length>
<vehicleLogoRecog>1036</vehicleLogoRecog>
<vehileSubLogoRecog>0</vehileSubLogoRecog>
<vehileModel>0</vehileModel>
<speed>87</speed>
</vehicleInfo>
<speedLimit>60</speedLimit>
<illegalInfo>
<illegalCode>1303</illegalCode>
<illegalName>overSpeed</illegalName>
<illegalDescription>speeding 20%-50%</illegalDescription>
</illegalInfo>
<pictureInfoList>
<pictureInfo>
<fileName>licensePlatePicture.jpg</fileName>
<type>licensePlatePicture</type>
<dataType>0</dataType>
<picRecogMode>1</picRecogMode>
<absTime>20261120094107213</absTime>
<plateRect><X>406</X><Y>750</Y><width>188</width><height>53</height></plateRect>
</pictureInfo>
<pictureInfo>
<fileName>detectionPicture.jpg</fileName>
<type>detectionPicture</type>
<dataType>0</dataType>
<picRecogMode>1</picRecogMode>
<absTime>20261120094107213</absTime>
<plateRect><X>406</X><Y>750</Y><width>188</width><height>53</height></plateRect>
</pictureInfo>
</pictureInfoList>
<originalLicensePlate>BKM1234</originalLicensePlate>
<CRIndex>0</CRIndex>
<vehicleListName>otherList</vehicleListName>
</ANPR>
<UUID>8f4d2c1e-6b7a-4e2b-9c31-0a5d7e9b1f42</UUID>
<picNum>2</picNum>
<monitoringSiteID>KHI-SOU-002</monitoringSiteID>
<isDataRetransmission>false</isDataRetransmission>
<DeviceGPSInfo><longitudeType>E</longitudeType><latitudeType>N</latitudeType><Longitude><degree>67</degree><minute>3</minute><sec>4.0</sec></Longitude><Latitude><degree>24</degree><minute>51</minute><sec>19.1</sec></Latitude></DeviceGPSInfo>
<detectionBackgroundImageResolution><height>360</height><width>640</width></detectionBackgroundImageResolution>
<countryAbbreviation>PK</countryAbbreviation>
</EventNotificationAlert>
"""
Path("fixtures/hikvision/anpr_overspeed.xml").write_text(xml)
lp = jpeg(plate("BKM-1234"))
det = jpeg(scene("BKM-1234"))
Path("fixtures/hikvision/licensePlatePicture.jpg").write_bytes(lp)
Path("fixtures/hikvision/detectionPicture.jpg").write_bytes(det)
boundary = b"MIME_boundary_3f1e9c"


def part(name, ctype, data):
    return (
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="'
        + name.encode()
        + b'"; filename="'
        + name.encode()
        + b'"\r\nContent-Type: '
        + ctype.encode()
        + b"\r\nContent-Length: "
        + str(len(data)).encode()
        + b"\r\n\r\n"
        + data
        + b"\r\n"
    )


body = (
    part("anpr.xml", "application/xml", xml.encode())
    + part("licensePlatePicture.jpg", "image/jpeg", lp)
    + part("detectionPicture.jpg", "image/jpeg", det)
    + b"--"
    + boundary
    + b"--\r\n"
)
Path("fixtures/hikvision/anpr_overspeed.multipart").write_bytes(body)
hb = """<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<ipAddress>10.21.4.17</ipAddress>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<macAddress>bc:ba:c2:4e:9a:11</macAddress>
<channelID>1</channelID>
<dateTime>2026-11-20T09:41:12+05:00</dateTime>
<activePostCount>1</activePostCount>
<eventType>videoloss</eventType>
<eventState>inactive</eventState>
<eventDescription>videoloss alarm</eventDescription>
</EventNotificationAlert>
"""
Path("fixtures/hikvision/heartbeat_videoloss.xml").write_text(hb)

# --- Dahua
g = jpeg(scene("AFR-420"))
p = jpeg(plate("AFR-420", bg=(245, 245, 240)))
Path("fixtures/dahua/global.jpg").write_bytes(g)
Path("fixtures/dahua/plate.jpg").write_bytes(p)


def car(event, plate_no, speed, lane, upper=60):
    return {
        "BoundingBox": [0, 0, 0, 0],
        "CountInGroup": 2,
        "CustomFlowDirection": "",
        "DeviceAddress": "University Road NIPA",
        "Direction": 0,
        "DrivingDirection": ["Approach", "NIPA", "Hassan Square"],
        "Event": event,
        "FlowDirection": 3,
        "GroupID": 5307719,
        "IndexInGroup": 1,
        "Lane": lane,
        "LowerSpeedLimit": 0,
        "MachineGroup": "KHI-EAST",
        "MachineName": "7J0A5D3PAG88F21",
        "OverSpeedMargin": 0,
        "PhysicalLane": lane,
        "PlateColor": "White",
        "PlateNumber": plate_no,
        "PlateType": "Normal",
        "RoadwayNo": "",
        "Speed": speed,
        "UTC": 1795185667,
        "UnderSpeedMargin": 0,
        "UpperSpeedLimit": upper,
        "VehicleColor": "Silver",
        "VehicleSize": "Light-duty",
        "VehicleType": "Motor",
        "ViolationCode": "",
        "ViolationDesc": event,
        "ViolationName": event,
    }


def data(code, plate_no, speed, lane, event_id):
    return {
        "Action": "Pulse",
        "Class": "Traffic",
        "Code": code,
        "CountInGroup": 2,
        "EventID": event_id,
        "GroupID": 5307719 + event_id,
        "IndexInGroup": 1,
        "Lane": lane,
        "LocaleTime": "2026-11-20 14:41:07",
        "Mark": 0,
        "Name": "TrafficSnap0",
        "Object": {
            "Action": "Appear",
            "BoundingBox": [3120, 2210, 3480, 2330],
            "Category": "Normal",
            "Confidence": 88,
            "ObjectID": 9123,
            "ObjectType": "Plate",
            "Text": plate_no,
            "Speed": 0,
        },
        "PTS": 43001230150.0,
        "RealUTC": 1795167667,
        "Sequence": 1,
        "Speed": speed,
        "TimeZone": 17,
        "TrafficCar": car(code, plate_no, speed, lane),
        "UTC": 1795185667,
        "UTCMS": 213,
        "Vehicle": {
            "Action": "Appear",
            "BoundingBox": [2352, 1072, 3856, 2520],
            "Category": "Motor",
            "Confidence": 160,
            "ObjectType": "Vehicle",
        },
    }


def b64(b):
    return base64.b64encode(b).decode()


over = {
    "Action": "Pulse",
    "Code": "TrafficOverSpeed",
    "Index": 0,
    "Data": data("TrafficOverSpeed", "AFR420", 92, 3, 731),
    "Images": [{"Type": "Global", "Content": b64(g)}, {"Type": "Plate", "Content": b64(p)}],
}
Path("fixtures/dahua/traffic_overspeed.json").write_text(json.dumps(over, indent=2))
red = {
    "Action": "Pulse",
    "Code": "TrafficRunRedLight",
    "Index": 0,
    "Data": data("TrafficRunRedLight", "AFR420", 38, 1, 732),
}
red["Data"].pop("RealUTC")  # older firmware: only the local-clock UTC
Path("fixtures/dahua/traffic_run_red_light.event.json").write_text(json.dumps(red, indent=2))
junction = {
    "id": 3143,
    "method": "client.notifyEventStream",
    "params": {
        "SID": 513,
        "eventList": [
            {
                "Action": "Pulse",
                "Code": "TrafficJunction",
                "Data": data("TrafficJunction", "AFR420", 41, 2, 733),
            }
        ],
    },
    "session": "537478f7285075076ff055201d96d1a4",
}
Path("fixtures/dahua/traffic_junction_stream.json").write_text(json.dumps(junction, indent=2))
