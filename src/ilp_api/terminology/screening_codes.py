"""The codes an evaluated visit writes (screening/hook.py, screening/derivation.py), published as CodeSystems by
terminology/codesystems.py so that every code the server stores resolves. Displays are Indonesian, as the
profile's codes are.

``ILP_KLASIFIKASI`` holds every category code and flag the engine's classifications can produce (ilp/classify/,
ilp/growth/), and the readable reasons its referral pathways give instead of a bare code (``tren-berat-t`` …);
a test runs the engine over its inputs to keep it complete. One code may serve several instruments (``normal``,
``tinggi``): the Observation's code says which.
"""

from ilp_api.ilp.screening_packages import CATALOGUE, IMMUNISATION_ITEM, T_STATUS

Concepts = tuple[tuple[str, str], ...]

KLASTER: Concepts = (
    ("klaster-1", "Klaster 1: Manajemen"),
    ("klaster-2", "Klaster 2: Ibu dan Anak"),
    ("klaster-3", "Klaster 3: Dewasa dan Lansia"),
    ("klaster-4", "Klaster 4: Penyakit Menular"),
    ("klaster-5", "Klaster 5: Lintas Klaster"),
    ("kehamilan", "Kehamilan (satu episode per kehamilan)"),
)

ILP_OBSERVATION: Concepts = (
    ("imt", "Indeks massa tubuh (dewasa)"),
    ("tb-u", "Panjang/tinggi badan menurut umur (TB/U)"),
    ("bb-u", "Berat badan menurut umur (BB/U)"),
    ("bb-tb", "Berat badan menurut panjang/tinggi badan (BB/PB, BB/TB)"),
    ("imt-u", "Indeks massa tubuh menurut umur (IMT/U)"),
    ("lk-u", "Lingkar kepala menurut umur (LK/U)"),
    ("tekanan-darah", "Tekanan darah"),
    ("tekanan-darah-kehamilan", "Tekanan darah pada kehamilan, persalinan dan nifas"),
    ("lingkar-perut", "Lingkar perut"),
    ("gula-darah-sewaktu", "Gula darah sewaktu"),
    ("gula-darah-puasa", "Gula darah puasa"),
    ("hba1c", "HbA1c"),
    ("kolesterol", "Kolesterol total"),
    ("anemia", "Anemia menurut kadar hemoglobin"),
    ("kek", "Kurang energi kronis menurut LiLA ibu hamil"),
    ("tren-berat", "Tren berat badan bulanan (N, T, 2T, O, B)"),
    ("srq-20", "SRQ-20: skrining kesehatan jiwa"),
    ("puma", "PUMA: skrining risiko PPOK"),
    ("adl", "ADL Barthel: kemandirian aktivitas sehari-hari"),
    ("skilas", "SKILAS: skrining lansia"),
    ("kpsp", "KPSP: skrining perkembangan anak"),
    ("tb-gejala", "Skrining gejala TBC"),
    ("visus", "Tajam penglihatan"),
    ("tes-bisik", "Tes bisik"),
    ("muac", "Lingkar lengan atas (LiLA)"),
    ("flag", "Tanda tambahan pada sebuah klasifikasi"),
)

ILP_KLASIFIKASI: Concepts = (
    ("normal", "Normal"),
    ("tidak-diklasifikasi", "Tidak diklasifikasi: di luar populasi instrumen"),
    # Blood pressure: adults (§6.1), adolescents (§6.2), pregnancy (§11)
    ("optimal", "Optimal"),
    ("normal-tinggi", "Normal tinggi"),
    ("hipertensi-1", "Hipertensi derajat 1 (hasil skrining)"),
    ("hipertensi-2", "Hipertensi derajat 2 (hasil skrining)"),
    ("hipertensi-3", "Hipertensi derajat 3 (hasil skrining)"),
    ("hipertensi-sistolik-terisolasi", "Hipertensi sistolik terisolasi (hasil skrining)"),
    ("meningkat", "Tekanan darah meningkat (remaja)"),
    ("td-hamil-tinggi", "Tekanan darah tinggi pada kehamilan, persalinan atau nifas"),
    ("td-hamil-berat", "Tekanan darah tinggi berat pada kehamilan, persalinan atau nifas"),
    # Adult BMI, both schemes (§6.3), and central obesity (§6.4)
    ("berat-badan-kurang", "Berat badan kurang"),
    ("berat-badan-lebih", "Berat badan lebih"),
    ("obesitas-1", "Obesitas I"),
    ("obesitas-2", "Obesitas II"),
    ("kurus-berat", "Kurus tingkat berat"),
    ("kurus-ringan", "Kurus tingkat ringan"),
    ("gemuk-ringan", "Gemuk tingkat ringan"),
    ("gemuk-berat", "Gemuk tingkat berat"),
    ("obesitas-sentral", "Obesitas sentral"),
    # Glucose (§6.5), cholesterol (§6.6), anemia (§6.7), KEK (§6.8)
    ("prediabetes", "Prediabetes (hasil skrining)"),
    ("suspek-diabetes", "Suspek diabetes melitus"),
    ("glukosa-rendah", "Gula darah rendah (di bawah 70 mg/dL)"),
    ("batas-tinggi", "Kolesterol batas tinggi"),
    ("tinggi", "Tinggi: TB/U di atas +3 SD, atau kolesterol total 240 mg/dL ke atas"),
    ("anemia", "Anemia"),
    ("kek", "Kurang energi kronis (KEK)"),
    # Child anthropometry (§6.9)
    ("sangat-pendek", "Sangat pendek"),
    ("pendek", "Pendek"),
    ("berat-badan-sangat-kurang", "Berat badan sangat kurang"),
    ("risiko-berat-badan-lebih", "Risiko berat badan lebih"),
    ("gizi-buruk", "Gizi buruk"),
    ("gizi-kurang", "Gizi kurang"),
    ("gizi-baik", "Gizi baik"),
    ("berisiko-gizi-lebih", "Berisiko gizi lebih"),
    ("gizi-lebih", "Gizi lebih"),
    ("obesitas", "Obesitas (anak)"),
    ("mikrosefali", "Mikrosefali"),
    ("makrosefali", "Makrosefali"),
    ("z-tidak-wajar", "Z-skor tidak wajar: ukur ulang"),
    # Weight trend (§6.9, §11)
    ("N", "Naik"),
    ("T", "Tidak naik"),
    ("2T", "Tidak naik dua bulan berturut-turut"),
    ("O", "Tidak ditimbang bulan lalu"),
    ("B", "Baru pertama kali ditimbang"),
    # SRQ-20 (§6.10), PUMA (§6.11), ADL (§6.12)
    ("masalah-kesehatan-jiwa", "Masalah kesehatan jiwa (SRQ-20: 6 jawaban ya atau lebih)"),
    ("ditunda", "Ditunda: keadaan gawat darurat"),
    ("risiko-bunuh-diri", "Risiko bunuh diri (SRQ-20 butir 17)"),
    ("risiko-tinggi-ppok", "Risiko tinggi PPOK (skor PUMA 6 atau lebih)"),
    ("mandiri", "Mandiri"),
    ("ketergantungan-ringan", "Ketergantungan ringan"),
    ("ketergantungan-sedang", "Ketergantungan sedang"),
    ("ketergantungan-berat", "Ketergantungan berat"),
    ("ketergantungan-total", "Ketergantungan total"),
    # SKILAS and its domains (§6.13)
    ("perlu-pemeriksaan-lanjut", "Perlu pemeriksaan lanjut"),
    ("kognitif", "Penurunan kognitif"),
    ("mobilitas", "Keterbatasan mobilitas"),
    ("malnutrisi", "Malnutrisi"),
    ("penglihatan", "Gangguan penglihatan"),
    ("pendengaran", "Gangguan pendengaran"),
    ("depresi", "Gejala depresi"),
    # KPSP (§6.14), TB symptoms (§6.15), vision and hearing (§6.16)
    ("sesuai", "Sesuai"),
    ("meragukan", "Meragukan"),
    ("penyimpangan", "Penyimpangan"),
    ("terduga-tb", "Terduga TBC"),
    ("bukan-terduga-tb", "Bukan terduga TBC"),
    ("kontak-erat", "Kontak erat atau serumah dengan pasien TBC"),
    ("gejala-tidak-sesuai-usia", "Gejala dari daftar kelompok umur lain: tanyakan ulang"),
    ("gangguan-ringan", "Gangguan penglihatan ringan"),
    ("gangguan-sedang", "Gangguan penglihatan sedang"),
    ("gangguan-berat", "Gangguan penglihatan berat"),
    ("buta", "Kebutaan"),
    ("suspek-gangguan-penglihatan", "Suspek gangguan penglihatan (hitung jari)"),
    ("lulus", "Lulus"),
    ("tidak-lulus", "Tidak lulus"),
    # Reasons a referral or follow-up gives instead of the bare code (§7)
    ("tren-berat-t", "Berat badan tidak naik bulan ini (T)"),
    ("kpsp-meragukan", "Hasil KPSP meragukan"),
    ("kpsp-penyimpangan", "Hasil KPSP penyimpangan"),
    ("gangguan-penglihatan", "Gangguan penglihatan (visus di bawah 6/12 atau hitung jari)"),
    ("tes-bisik-tidak-lulus", "Tes bisik tidak lulus"),
)

KLASIFIKASI_DISPLAY = dict(ILP_KLASIFIKASI)

TINDAK_LANJUT: Concepts = (
    ("pantau-td-bulanan", "Pantau tekanan darah setiap bulan"),
    ("cek-gula-3-bulan", "Periksa gula darah lagi dalam 3 bulan"),
    ("evaluasi-3-bulan", "Evaluasi lagi dalam 3 bulan"),
    ("ulang-kpsp-14-hari", "Ulangi KPSP dalam 14 hari"),
    ("timbang-ulang-bulan-depan", "Timbang ulang bulan depan"),
    ("review-gizi-2-minggu", "Tinjau status gizi dalam 2 minggu"),
    ("mt-bumil-kek-90-hari", "Makanan tambahan ibu hamil KEK selama 90 hari"),
    ("ttd", "Tablet tambah darah"),
    ("pemeriksaan-dahak", "Pemeriksaan dahak"),
    ("pemeriksaan-geriatri", "Pemeriksaan geriatri (ICOPE)"),
    ("perawatan-rumah", "Perawatan di rumah"),
    ("jadwalkan", "Jadwalkan layanan yang jatuh tempo tetapi tidak tersedia di sini"),
    ("edukasi", "Edukasi"),
)

STATUS_RUJUKAN: Concepts = (
    ("dibuat", "Dibuat"),
    ("dikirim", "Dikirim"),
    ("diterima", "Diterima"),
    ("selesai", "Selesai"),
    ("rujuk-balik", "Rujuk balik: dikembalikan dengan instruksi"),
)

ILP_TINDAKAN: Concepts = (
    ("rujukan", "Rujukan"),
    ("rujuk-balik", "Rujuk balik: kembali ke fasilitas perujuk dengan instruksi (Task/{id}/$rujuk-balik)"),
)

KATEGORI_KONDISI: Concepts = (("temuan-skrining", "Temuan skrining: belum didiagnosis"),)

# The items of the life-cycle screening packages (profile §4.1): the reasons of a ``jadwalkan`` follow-up, an
# item due that the site cannot provide. A vaccine dose due is named in the imunisasi CodeSystem instead.
PAKET_SKRINING: Concepts = tuple(
    (item, "Status imunisasi T ibu hamil" if item == T_STATUS else item.replace("-", " ").capitalize())
    for item in sorted({row.item for row in CATALOGUE if row.item != IMMUNISATION_ITEM} | {T_STATUS})
)
